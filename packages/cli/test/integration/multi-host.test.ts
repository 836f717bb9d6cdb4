/**
 * A cluster of three hosts (network namespaces on a bridge, each with its own address and TMPDIR)
 * started through the real `weft` CLI with the README's recipe: a head on host 1 listening on
 * every interface, and on hosts 2 and 3 a node that joins it with the token the head printed.
 * This test process, in the root namespace, is the driver. Hosts 2 and 3 each offer a resource
 * named after them (h2, h3), so that tasks and actors can be pinned to a host.
 */
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { get, init, shutdown } from '@weft/core';
import { Ledger, callLedger, checkPattern, makePattern, whichHost } from '../fixtures/multi-host-tasks.ts';
import { until } from '../support/cli-cluster.ts';
import { SimulatedHosts, type Host } from '../support/hosts.ts';

const FIXTURES = fileURLToPath(new URL('../fixtures', import.meta.url));
/** The head's default port. */
const HEAD_PORT = 7350;
/** 2,500,000 doubles: a 20 MB array, more than two of the 8 MiB chunks objects move in. */
const LARGE_LENGTH = 2_500_000;
/** A get that takes longer than this is a hang, reported as such. */
const GET_TIMEOUT_MS = 45_000;
const CALLS = 20;

const reason = SimulatedHosts.unavailable();
const hosts = new SimulatedHosts();
const on = (host: Host) => ({ resources: { [`h${host}`]: 1 } });
let headUrl = '';
let token = '';

interface NodeView {
  nodeId: string;
  address: string;
  alive: boolean;
}

/** The nodes `weft status --json` on host 1 lists as alive. */
async function liveNodes(): Promise<NodeView[]> {
  const { stdout } = await hosts.weft(1, 'status', '--json');
  return (JSON.parse(stdout) as { nodes: NodeView[] }).nodes.filter((node) => node.alive);
}

describe.skipIf(reason !== undefined)('a cluster of three hosts started with the README recipe', () => {
  beforeAll(async () => {
    await hosts.create(3);
    headUrl = `ws://${hosts.address(1)}:${HEAD_PORT}`;
    const head = await hosts.weft(1, 'start', '--head', '--host', '0.0.0.0', '--num-cpus', '2');
    const join = new RegExp(`weft start --address ${headUrl} --token (\\S+)`).exec(head.stdout);
    if (join?.[1] === undefined) throw new Error(`the head printed no join command for ${headUrl}:\n${head.stdout}`);
    token = join[1];
    await Promise.all(([2, 3] as const).map((host) => hosts.weft(host, 'start', '--address', headUrl, '--token', token,
      '--num-cpus', '1', '--resources', JSON.stringify({ [`h${host}`]: 1 }))));
    await until(async () => ((await liveNodes()).length === 3 ? true : undefined), 'three live nodes', 30_000, 200);
    await init({ address: headUrl, token, workingDir: FIXTURES });
  }, 120_000);

  afterAll(async () => {
    try {
      await shutdown();
    } finally {
      expect(await hosts.destroy()).toEqual([]);
      expect(hosts.leftovers()).toEqual([]);
    }
  }, 90_000);

  it('uses on one host a 20 MB array made by a task on another, both ways', async () => {
    expect(await get([whichHost.options(on(2)).remote(), whichHost.options(on(3)).remote()])).toEqual([hosts.address(2), hosts.address(3)]);
    const madeOnTwo = makePattern.options(on(2)).remote(LARGE_LENGTH, 2);
    const madeOnThree = makePattern.options(on(3)).remote(LARGE_LENGTH, 3);
    const checks = await get([checkPattern.options(on(3)).remote(madeOnTwo, 2), checkPattern.options(on(2)).remote(madeOnThree, 3)],
      { timeoutMs: GET_TIMEOUT_MS });
    expect(checks).toEqual([
      { length: LARGE_LENGTH, wrong: 0, host: hosts.address(3) },
      { length: LARGE_LENGTH, wrong: 0, host: hosts.address(2) },
    ]);
    // And the driver, outside every host, gets one of them too.
    const back = await get(madeOnTwo, { timeoutMs: GET_TIMEOUT_MS });
    expect(back.length).toBe(LARGE_LENGTH);
    expect(back.every((x, i) => x === 2e7 + i)).toBe(true);
  }, 90_000);

  it('answers, in order, the calls of tasks on one host to an actor on another', async () => {
    const ledger = Ledger.options({ resources: { h3: 0.01 } }).remote();
    const first = await get(callLedger.options(on(2)).remote(ledger, CALLS), { timeoutMs: GET_TIMEOUT_MS });
    const second = await get(callLedger.options(on(2)).remote(ledger, CALLS), { timeoutMs: GET_TIMEOUT_MS });
    expect(first.host).toBe(hosts.address(2));
    expect([...first.replies, ...second.replies]).toEqual(Array.from({ length: 2 * CALLS }, (_, i) => ({
      n: i + 1, caller: hosts.address(2), host: hosts.address(3),
    })));
  }, 90_000);

  it('lists in weft status three live nodes at their hosts\' addresses', async () => {
    const nodes = await liveNodes();
    const addresses = nodes.map((node) => new URL(node.address).hostname).sort();
    expect(addresses).toEqual([hosts.address(1), hosts.address(2), hosts.address(3)].sort());
  });

  it('refuses a node that would listen on loopback for a remote head, naming --node-ip-address', async () => {
    const before = hosts.running();
    await expect(hosts.weft(3, 'start', '--address', headUrl, '--token', token, '--host', '127.0.0.1')).rejects.toThrow(/--node-ip-address/);
    expect(hosts.running()).toEqual(before);
    expect(await liveNodes()).toHaveLength(3);
  });

  it('leaves no process running once weft stop has run on each host', async () => {
    await shutdown();
    await Promise.all([hosts.weft(2, 'stop'), hosts.weft(3, 'stop')]);
    await hosts.weft(1, 'stop');
    expect(hosts.pids().length).toBeGreaterThanOrEqual(3);
    expect(hosts.running()).toEqual([]);
    expect(await hosts.destroy()).toEqual([]);
  }, 60_000);
});
