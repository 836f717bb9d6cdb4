/**
 * A driver's job belongs to the driver, not to one connection: when the connection between a
 * driver and its node drops (the node did not restart) and comes back, the driver finds its job
 * running, its actors alive with their state, its earlier puts readable and its open gets
 * answered. The connection runs through a TCP proxy in this process, whose sockets the test
 * resets (as a broken network path does); the cluster is real, started through the CLI.
 */
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { get, init, put, shutdown } from '@weft/core';
import { Tally, busy } from '../fixtures/cluster-tasks.ts';
import { CliCluster } from '../support/cli-cluster.ts';

const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures');
const cluster = new CliCluster();

/** A TCP proxy to `target` whose open connections can be cut at once, while it keeps listening. */
class Proxy {
  readonly #server: net.Server;
  readonly #sockets = new Set<net.Socket>();
  port = 0;
  cuts = 0;
  constructor(target: URL) {
    this.#server = net.createServer((client) => {
      const upstream = net.connect(Number(target.port), target.hostname);
      for (const socket of [client, upstream]) {
        this.#sockets.add(socket);
        socket.on('close', () => this.#sockets.delete(socket));
        socket.on('error', () => socket.destroy());
      }
      client.pipe(upstream).pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
  }
  async listen(): Promise<void> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    this.port = (this.#server.address() as net.AddressInfo).port;
  }
  /** Reset every connection through it. */
  cut(): void {
    this.cuts += 1;
    for (const socket of this.#sockets) socket.resetAndDestroy();
  }
  async close(): Promise<void> {
    this.cut();
    await new Promise((resolve) => this.#server.close(resolve));
  }
}

let proxy: Proxy | undefined;

beforeAll(async () => {
  await cluster.startHead('--num-cpus', '1');
  proxy = new Proxy(new URL(cluster.url));
  await proxy.listen();
  await init({ address: `ws://127.0.0.1:${proxy.port}`, token: cluster.token, workingDir: FIXTURES });
}, 60_000);

afterAll(async () => {
  await shutdown();
  await proxy?.close();
  expect(await cluster.stop()).toEqual([]);
}, 60_000);

async function jobs(): Promise<Array<{ jobId: string; state: string }>> {
  const response = await fetch(`${cluster.url.replace(/^ws/, 'http')}/api/jobs`, { headers: { authorization: `Bearer ${cluster.token}` } });
  return (await response.json()) as Array<{ jobId: string; state: string }>;
}

describe('a driver whose connection to its node drops and comes back', () => {
  it('keeps its job, its actors, its puts, and gets the answers of its open gets', async () => {
    const kept = put({ made: 'before the drop' });
    const tally = Tally.remote();
    expect((await get(tally.add.remote(1))).n).toBe(1);
    const slow = busy.remote(1_500);
    const answer = get(slow, { timeoutMs: 30_000 });
    await new Promise((resolve) => setTimeout(resolve, 300));
    (proxy as Proxy).cut();
    // The open get is asked again on the new connection, and answered.
    expect(await answer).toMatch(/^node-/);
    expect(await get(kept)).toEqual({ made: 'before the drop' });
    // The same actor, with its state.
    expect((await get(tally.add.remote(1))).n).toBe(2);
    const listed = await jobs();
    expect(listed.filter((job) => job.state === 'finished')).toEqual([]);
    expect(listed.filter((job) => job.state === 'started')).toHaveLength(1);
  }, 60_000);

  it('keeps them through several drops in a row', async () => {
    const kept = put([1, 2, 3]);
    const tally = Tally.remote();
    for (let i = 1; i <= 3; i++) {
      expect((await get(tally.add.remote(1), { timeoutMs: 30_000 })).n).toBe(i);
      (proxy as Proxy).cut();
    }
    expect(await get(kept, { timeoutMs: 30_000 })).toEqual([1, 2, 3]);
    expect((await get(tally.add.remote(1), { timeoutMs: 30_000 })).n).toBe(4);
  }, 60_000);

  it('loses no call and runs none twice when the connection drops while calls are being sent', async () => {
    const tally = Tally.remote();
    const refs = [];
    for (let i = 0; i < 60; i++) {
      refs.push(tally.add.remote(1));
      if (i % 20 === 7) (proxy as Proxy).cut();
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    const replies = await get(refs, { timeoutMs: 30_000 });
    // Each call ran once, in the order it was made.
    expect(replies.map((reply) => reply.n)).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
  }, 60_000);
});
