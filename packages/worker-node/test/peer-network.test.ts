/**
 * PeerNetwork over in-memory connection pairs and a fake connector, with fake timers: messages
 * wait in order for a connection, opening is retried with backoff and given up (at once when
 * another node answers at the address), two connections of one pair both stay usable, and only
 * the last one closing is reported.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { inProcessPair, type Connection, type PeerInfo, type PeerMessage } from '@weft/protocol';
import { PeerGoneError, PeerNetwork, type PeerConnector } from '../src/peer-network.ts';

const SELF = 'node-self';
const info = (nodeId: string): PeerInfo => ({ nodeId, address: `ws://${nodeId}:1`, resources: { CPU: 1 } });
const release = (objectId: string): PeerMessage => ({ type: 'release-object', objectId });

/** The far ends of the connections the network opened (the peers' sides), and what each received. */
function setUp(fail: (attempt: number) => Error | undefined = () => undefined) {
  const far: Array<{ nodeId: string; conn: Connection<PeerMessage, PeerMessage>; received: PeerMessage[] }> = [];
  let attempts = 0;
  const dialled: number[] = [];
  const connector: PeerConnector = async (_address, nodeId) => {
    attempts += 1;
    dialled.push(Date.now());
    const error = fail(attempts);
    if (error) throw error;
    const [near, end] = inProcessPair<PeerMessage, PeerMessage>();
    const peer = { nodeId, conn: end, received: [] as PeerMessage[] };
    end.onMessage((message) => peer.received.push(message));
    far.push(peer);
    return near;
  };
  const events: string[] = [];
  const messages: Array<[string, PeerMessage]> = [];
  const network = new PeerNetwork(SELF, connector, {
    message: (from, message) => void messages.push([from, message]),
    disconnected: (nodeId, reason) => void events.push(`disconnected ${nodeId}: ${reason}`),
    unreachable: (nodeId, reason) => void events.push(`unreachable ${nodeId}: ${reason}`),
  });
  return { network, far, events, messages, dialled, attempts: () => attempts };
}

const ids = (received: PeerMessage[]): string[] => received.map((m) => (m.type === 'release-object' ? m.objectId : m.type));

beforeEach(() => {
  vi.useFakeTimers({ now: 0 });
});
afterEach(() => {
  vi.useRealTimers();
});

describe('the peer network', () => {
  it('opens one connection for the messages sent while it opens, and sends them on it in order', async () => {
    const t = setUp();
    t.network.setPeers([info('node-b')]);
    for (const id of ['x-1', 'x-2', 'x-3']) t.network.send('node-b', release(id));
    await vi.advanceTimersByTimeAsync(0);
    t.network.send('node-b', release('x-4'));
    await vi.advanceTimersByTimeAsync(0);
    expect(t.attempts()).toBe(1);
    expect(ids(t.far[0]?.received ?? [])).toEqual(['x-1', 'x-2', 'x-3', 'x-4']);
  });

  it('passes what a peer sends to the owner, named by the peer', async () => {
    const t = setUp();
    t.network.setPeers([info('node-b')]);
    t.network.send('node-b', release('x-1'));
    await vi.advanceTimersByTimeAsync(0);
    t.far[0]?.conn.send(release('y-1'));
    await vi.advanceTimersByTimeAsync(0);
    expect(t.messages).toEqual([['node-b', release('y-1')]]);
  });

  it('retries opening with backoff from 100 ms to 2 s, and after 8 attempts reports the peer unreachable and drops what waited', async () => {
    const t = setUp((attempt) => (attempt <= 8 ? new Error('ECONNREFUSED') : undefined));
    t.network.setPeers([info('node-b')]);
    t.network.send('node-b', release('x-1'));
    await vi.advanceTimersByTimeAsync(60_000);
    expect(t.dialled).toEqual([0, 100, 300, 700, 1_500, 3_100, 5_100, 7_100]);
    expect(t.events).toEqual(['unreachable node-b: ECONNREFUSED']);
    // It is still listed: a later send tries again, and what was dropped is not sent.
    t.network.send('node-b', release('x-2'));
    await vi.advanceTimersByTimeAsync(0);
    expect(t.attempts()).toBe(9);
    expect(ids(t.far[0]?.received ?? [])).toEqual(['x-2']);
  });

  it('sends what waited once an attempt after failures opens', async () => {
    const t = setUp((attempt) => (attempt < 3 ? new Error('ECONNREFUSED') : undefined));
    t.network.setPeers([info('node-b')]);
    t.network.send('node-b', release('x-1'));
    t.network.send('node-b', release('x-2'));
    await vi.advanceTimersByTimeAsync(300);
    expect(ids(t.far[0]?.received ?? [])).toEqual(['x-1', 'x-2']);
    expect(t.events).toEqual([]);
  });

  it('stops dialling, and reports nothing, when the peer connects to this node while the attempts fail', async () => {
    const t = setUp(() => new Error('ECONNREFUSED'));
    t.network.setPeers([info('node-b')]);
    t.network.send('node-b', release('x-1'));
    await vi.advanceTimersByTimeAsync(300);
    const [accepted, acceptedFar] = inProcessPair<PeerMessage, PeerMessage>();
    const acceptedGot: PeerMessage[] = [];
    acceptedFar.onMessage((message) => acceptedGot.push(message));
    t.network.accept('node-b', accepted);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(ids(acceptedGot)).toEqual(['x-1']);
    expect(t.events).toEqual([]);
    expect(t.attempts()).toBeLessThanOrEqual(3);
  });

  it('gives up at once when another node answers at the peer\'s address', async () => {
    const t = setUp(() => new PeerGoneError('node-c answers at ws://node-b:1'));
    t.network.setPeers([info('node-b')]);
    t.network.send('node-b', release('x-1'));
    await vi.advanceTimersByTimeAsync(0);
    expect(t.attempts()).toBe(1);
    expect(t.events).toEqual(['unreachable node-b: node-c answers at ws://node-b:1']);
  });

  it('does not dial a node the head has not listed, reports it unreachable after the attempts and forgets it', async () => {
    const t = setUp();
    t.network.send('node-x', release('x-1'));
    await vi.advanceTimersByTimeAsync(60_000);
    expect(t.attempts()).toBe(0);
    expect(t.events).toEqual(['unreachable node-x: node node-x is not a known peer']);
    expect(t.network.isListed('node-x')).toBe(false);
  });

  it('keeps both connections when both sides connected at once, sends on the first, and reports only the last one closing', async () => {
    const t = setUp();
    t.network.setPeers([info('node-b')]);
    const [accepted, acceptedFar] = inProcessPair<PeerMessage, PeerMessage>();
    const acceptedGot: PeerMessage[] = [];
    acceptedFar.onMessage((message) => acceptedGot.push(message));
    t.network.accept('node-b', accepted);
    // A second connection of the pair (both sides connected at once) stays too.
    t.network.accept('node-b', ((): Connection<PeerMessage, PeerMessage> => {
      const [near, end] = inProcessPair<PeerMessage, PeerMessage>();
      const peer = { nodeId: 'node-b', conn: end, received: [] as PeerMessage[] };
      end.onMessage((message) => peer.received.push(message));
      t.far.push(peer);
      return near;
    })());
    t.network.send('node-b', release('x-1'));
    await vi.advanceTimersByTimeAsync(0);
    expect(ids(acceptedGot)).toEqual(['x-1']);
    expect(t.far[0]?.received).toEqual([]);
    expect(t.attempts()).toBe(0);
    acceptedFar.close('reset');
    expect(t.events).toEqual([]);
    t.network.send('node-b', release('x-2'));
    await vi.advanceTimersByTimeAsync(0);
    expect(ids(t.far[0]?.received ?? [])).toEqual(['x-2']);
    t.far[0]?.conn.close('keepalive timeout');
    expect(t.events).toEqual(['disconnected node-b: keepalive timeout']);
  });

  it('closes the connections of a listed node that leaves the list without reporting it, and keeps a node not yet listed', async () => {
    const t = setUp();
    t.network.setPeers([info('node-b')]);
    t.network.send('node-b', release('x-1'));
    const [early, earlyFar] = inProcessPair<PeerMessage, PeerMessage>();
    t.network.accept('node-new', early);
    await vi.advanceTimersByTimeAsync(0);
    const closed: string[] = [];
    t.far[0]?.conn.onClose((reason) => closed.push(reason));
    earlyFar.onClose((reason) => closed.push(`node-new: ${reason}`));
    t.network.setPeers([]);
    expect(closed).toEqual(['node left the cluster']);
    expect(t.events).toEqual([]);
    expect(t.network.known()).toEqual([]);
    t.network.setPeers([info('node-new')]);
    expect(t.network.isListed('node-new')).toBe(true);
  });

  it('closes every connection when it closes, reporting nothing', async () => {
    const t = setUp();
    t.network.setPeers([info('node-b'), info('node-c'), info(SELF)]);
    expect(t.network.known().map((p) => p.nodeId)).toEqual(['node-b', 'node-c']);
    t.network.send('node-b', release('x-1'));
    t.network.send('node-c', release('x-1'));
    await vi.advanceTimersByTimeAsync(0);
    const closed: string[] = [];
    for (const peer of t.far) peer.conn.onClose((reason) => closed.push(`${peer.nodeId}: ${reason}`));
    t.network.close();
    expect(closed).toEqual(['node-b: node stopping', 'node-c: node stopping']);
    expect(t.events).toEqual([]);
  });
});
