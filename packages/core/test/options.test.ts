import { describe, expect, it } from 'vitest';
import { Actor, normalizeActorOptions, type ActorOptions } from '../src/actor.ts';
import { normalizeTaskOptions, remote, resourcesOf, type TaskOptions } from '../src/remote.ts';
import { validateClientMessage } from '@weft/protocol';

class Counter extends Actor {
  n = 0;
  inc(): number {
    return ++this.n;
  }
}

const data = new Uint8Array([0]);

/** Whether the node accepts a task submitted with these (normalized) options: the wire checks what the API does. */
function wireAccepts(options: Required<TaskOptions>): boolean {
  try {
    validateClientMessage({ type: 'submit-task', task: {
      taskId: 't-1', jobId: 'job-1', fn: { module: 'm.ts', name: 'f' }, name: 'f', args: { data }, argRefs: [],
      resources: resourcesOf(options), maxRetries: options.maxRetries, retryExceptions: options.retryExceptions,
      ...(options.maxConcurrency > 1 ? { maxConcurrency: options.maxConcurrency } : {}),
    } });
    return true;
  } catch {
    return false;
  }
}

function wireAcceptsActor(options: ActorOptions): boolean {
  try {
    validateClientMessage({ type: 'create-actor', spec: {
      actorId: 'actor-1', jobId: 'job-1', cls: { module: 'm.ts', name: 'Counter' }, args: { data }, argRefs: [], options: normalizeActorOptions(options, Counter),
    } });
    return true;
  } catch {
    return false;
  }
}

describe('option ranges', () => {
  it.each([
    [{ numCpus: Infinity }, 'numCpus must be a finite number >= 0'], [{ numCpus: -1 }, 'numCpus must be a finite number >= 0'],
    [{ numCpus: Number.NaN }, 'numCpus'], [{ resources: { gpu: Infinity } }, 'resources.gpu must be a finite number >= 0'],
    [{ maxRetries: -2 }, 'maxRetries'], [{ maxRetries: 1.5 }, 'maxRetries'],
    [{ maxConcurrency: 0 }, 'maxConcurrency must be an integer >= 1'], [{ maxConcurrency: 2.5 }, 'maxConcurrency must be an integer >= 1'],
    [{ maxConcurrency: Number.NaN }, 'maxConcurrency'], [{ maxConcurrency: Infinity }, 'maxConcurrency'],
  ] as Array<[TaskOptions, string]>)('refuses task options %o, naming the option', (options, reason) => {
    expect(() => normalizeTaskOptions(options)).toThrow(RangeError);
    expect(() => normalizeTaskOptions(options)).toThrow(reason);
  });

  it.each([
    [{ maxConcurrency: 0 }, 'maxConcurrency must be an integer >= 1'], [{ numCpus: Infinity }, 'numCpus must be a finite number >= 0'],
    [{ resources: { gpu: Infinity } }, 'resources.gpu must be a finite number >= 0'], [{ maxRestarts: -2 }, 'maxRestarts'],
    [{ maxTaskRetries: 0.5 }, 'maxTaskRetries'],
  ] as Array<[ActorOptions, string]>)('refuses actor options %o, naming the option', (options, reason) => {
    expect(() => normalizeActorOptions(options, Counter)).toThrow(RangeError);
    expect(() => normalizeActorOptions(options, Counter)).toThrow(reason);
  });

  it('sends only options the node accepts: what the API lets through passes the wire validator', () => {
    for (const options of [{}, { numCpus: 0 }, { numCpus: 0.5, resources: { gpu: 2, constructor: 1 } }, { maxRetries: -1 }, { maxRetries: 0, retryExceptions: true },
      { maxConcurrency: 1 }, { maxConcurrency: 64 }]) {
      expect(wireAccepts(normalizeTaskOptions(options)), JSON.stringify(options)).toBe(true);
    }
    for (const options of [{}, { maxConcurrency: 1 }, { maxConcurrency: 100, maxRestarts: -1, maxTaskRetries: -1 }, { numCpus: 2, resources: { gpu: 1 } }]) {
      expect(wireAcceptsActor(options), JSON.stringify(options)).toBe(true);
    }
  });
});

describe('maxConcurrency of a remote function', () => {
  it('defaults to 1 and is refused by .options() too when it is not an integer >= 1', () => {
    expect(normalizeTaskOptions({}).maxConcurrency).toBe(1);
    const download = remote({ maxConcurrency: 8 }, async function download(url: string) {
      return url;
    });
    expect(() => download.options({ maxConcurrency: 0 })).toThrow(RangeError);
    expect(() => download.options({ maxConcurrency: 0 })).toThrow('maxConcurrency must be an integer >= 1, got 0');
    expect(() => download.options({ maxConcurrency: 16 })).not.toThrow();
    expect(() => remote({ maxConcurrency: -1 }, function f() {})).toThrow('maxConcurrency');
  });

  it('is checked on the wire: a task whose maxConcurrency is not an integer >= 1 is refused', () => {
    const submit = (maxConcurrency: unknown) => () => validateClientMessage({ type: 'submit-task', task: {
      taskId: 't-1', jobId: 'job-1', fn: { module: 'm.ts', name: 'f' }, name: 'f', args: { data }, argRefs: [], resources: { CPU: 1 },
      maxRetries: 3, retryExceptions: false, maxConcurrency,
    } });
    expect(submit(undefined)).not.toThrow();
    expect(submit(64)).not.toThrow();
    for (const bad of [0, -1, 1.5, '4', Number.NaN]) expect(submit(bad), String(bad)).toThrow('maxConcurrency must be an integer >= 1');
  });
});
