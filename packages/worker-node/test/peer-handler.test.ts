/**
 * What the node does when the last connection with a peer closes, through fakes of the
 * components the peer handler drives (each records what it is told).
 */
import { describe, expect, it } from 'vitest';
import { PeerHandler, type PeerServices } from '../src/peer-handler.ts';

function setUp() {
  const told: string[] = [];
  const record = (what: string) => (nodeId: string, why?: string): void => void told.push(`${what} ${nodeId}${why === undefined ? '' : `: ${why}`}`);
  const services = {
    nodeId: 'node-self',
    scheduler: { nodeDied: record('scheduler.nodeDied') },
    router: { nodeDied: record('router.nodeDied') },
    resolver: { reissue: record('resolver.reissue') },
    borrows: { reissue: record('borrows.reissue') },
  } as unknown as PeerServices;
  return { handler: new PeerHandler(services), told };
}

describe('when the last connection with a peer closes', () => {
  it('fails over what ran there and asks again for its pulls, subscriptions and borrows', () => {
    const { handler, told } = setUp();
    handler.disconnected('node-b', 'keepalive timeout');
    const why = 'lost its connection to node node-self (keepalive timeout)';
    expect(told).toEqual([`scheduler.nodeDied node-b: ${why}`, `router.nodeDied node-b: ${why}`, 'resolver.reissue node-b', 'borrows.reissue node-b']);
  });

  it('does nothing when the peer stopped on purpose (it flushed what it owed first)', () => {
    const { handler, told } = setUp();
    handler.disconnected('node-b', 'node stopping');
    expect(told).toEqual([]);
  });
});
