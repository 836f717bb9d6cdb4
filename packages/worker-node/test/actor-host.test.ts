/**
 * The actors of one worker (ActorHost) without a thread: a fake runtime collects what the worker
 * would send its node, a fake loader gives the class. Many actors share the host: each keeps its
 * own call order, async calls of different actors interleave, and dropping one spares the others.
 */
import { describe, expect, it } from 'vitest';
import { decode, encode, type ActorCallSpec, type ActorSpec, type ClientMessage, type ClientRuntime, type Result } from '@weft/protocol';
import { ActorHost } from '../src/actor-host.ts';
import type { ModuleLoader } from '../src/module-loader.ts';

const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

class Recorder {
  readonly log: string[] = [];
  constructor(readonly name: string) {}
  async note(text: string, waitMs: number): Promise<string> {
    this.log.push(`start ${text}`);
    await new Promise((resolve) => setTimeout(resolve, waitMs));
    this.log.push(`end ${text}`);
    return `${this.name}:${text}`;
  }
}

function setUp(): { host: ActorHost; sent: ClientMessage[]; instances: Recorder[] } {
  const sent: ClientMessage[] = [];
  const instances: Recorder[] = [];
  const runtime = { send: (message: ClientMessage) => sent.push(message) } as unknown as ClientRuntime;
  class Made extends Recorder {
    constructor(name: string) {
      super(name);
      instances.push(this);
    }
  }
  const loader = { loadClass: async () => Made, dirOf: () => '/job' } as unknown as ModuleLoader;
  return { host: new ActorHost(runtime, loader), sent, instances };
}

const spec = (actorId: string, name: string): ActorSpec => ({
  actorId, jobId: 'job-1', cls: { module: 'recorder.ts', name: 'Recorder' }, args: encode([name]), argRefs: [],
  options: { maxConcurrency: 1, maxRestarts: 0, maxTaskRetries: 0, placement: { CPU: 1 }, resources: {} },
} as unknown as ActorSpec);
const call = (actorId: string, callId: string, text: string, waitMs: number): ActorCallSpec => ({
  actorId, callId, method: 'note', name: 'Recorder.note', args: encode([text, waitMs]), argRefs: [],
} as unknown as ActorCallSpec);
const results = (sent: ClientMessage[]): Record<string, unknown> => Object.fromEntries(sent.flatMap((message) =>
  message.type === 'task-done' ? [[message.taskId, (message.result as Result).status === 'ok' ? decode((message.result as { value: { data: Uint8Array } }).value.data) : (message.result as { error: { code: string } }).error.code]] : []));

describe('ActorHost', () => {
  it('hosts several actors: each runs its calls in order, one at a time, while the others run theirs', async () => {
    const { host, sent, instances } = setUp();
    await host.create(spec('a-1', 'one'), []);
    await host.create(spec('a-2', 'two'), []);
    expect(sent.filter((m) => m.type === 'actor-created').map((m) => (m as { actorId: string }).actorId)).toEqual(['a-1', 'a-2']);
    host.call(call('a-1', 'c-1', 'x', 20), []);
    host.call(call('a-1', 'c-2', 'y', 0), []);
    host.call(call('a-2', 'c-3', 'z', 5), []);
    await new Promise((resolve) => setTimeout(resolve, 60));
    await flush();
    expect(instances[0]?.log).toEqual(['start x', 'end x', 'start y', 'end y']);
    expect(instances[1]?.log).toEqual(['start z', 'end z']);
    expect(results(sent)).toEqual({ 'c-1': 'one:x', 'c-2': 'one:y', 'c-3': 'two:z' });
    // a-2's call ran while a-1's first was still waiting: the actors interleave.
    expect(sent.findIndex((m) => m.type === 'task-done' && m.taskId === 'c-3')).toBeLessThan(sent.findIndex((m) => m.type === 'task-done' && m.taskId === 'c-1'));
  });

  it('drops a killed actor: its queued calls never run and nothing more is reported for it; its neighbour goes on', async () => {
    const { host, sent, instances } = setUp();
    await host.create(spec('a-1', 'one'), []);
    await host.create(spec('a-2', 'two'), []);
    host.call(call('a-1', 'c-1', 'running', 20), []);
    host.call(call('a-1', 'c-2', 'queued', 0), []);
    host.drop('a-1');
    host.call(call('a-2', 'c-3', 'after', 0), []);
    host.call(call('a-1', 'c-4', 'late', 0), []);
    await new Promise((resolve) => setTimeout(resolve, 40));
    await flush();
    expect(instances[0]?.log).toEqual(['start running', 'end running']);
    expect(results(sent)).toEqual({ 'c-3': 'two:after', 'c-4': 'ACTOR_DIED' });
    expect(host.size).toBe(1);
  });
});
