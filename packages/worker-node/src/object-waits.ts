/**
 * Open `get` and `wait` calls of the node's clients: each replies once its objects are ready
 * (get: all of them; wait: `numReturns` of them, or what is ready at its timeout). While a task
 * waits here, its worker lends its CPUs (see LocalScheduler.blocked).
 */
import { ERROR_CODES, type CommonNodeMessage, type Result } from '@weft/protocol';
import type { ObjectEntry, ObjectStore } from './object-store.ts';

/** Where replies go and who is told about blocking: a driver or a worker. */
export interface WaitClient {
  readonly id: string;
  send(message: CommonNodeMessage): void;
}

interface OpenCall {
  done: boolean;
  taskId: string | undefined;
  timer?: NodeJS.Timeout;
}

export class ObjectWaits {
  readonly #open = new Map<string, Map<number, OpenCall>>();

  constructor(
    private readonly store: ObjectStore,
    private readonly onBlocked: (taskId: string | undefined) => void,
    private readonly onUnblocked: (taskId: string | undefined) => void,
  ) {}

  get(client: WaitClient, requestId: number, ids: string[], taskId: string | undefined): void {
    const entries = ids.map((id) => this.store.get(id));
    let missing = 0;
    for (const entry of entries) if (entry && !entry.result) missing += 1;
    // A get of objects this node has not heard of is answered from their owners (refs that
    // arrived inside values registered their owner with add-refs).
    if (missing === 0) {
      // A task's get counts as a wait even when it returns at once: its worker, which cannot
      // know, starts its next task meanwhile, and the node must count the same events.
      this.onBlocked(taskId);
      this.onUnblocked(taskId);
      client.send({ type: 'objects', requestId, results: entries.map((entry, i) => resultOf(entry, ids[i] as string)) });
      return;
    }
    const call = this.#openCall(client, requestId, taskId);
    const onReady = (): void => {
      missing -= 1;
      if (missing > 0 || call.done) return;
      this.#close(client, requestId, call);
      client.send({ type: 'objects', requestId, results: entries.map((entry, i) => resultOf(entry, ids[i] as string)) });
    };
    for (const entry of entries) if (entry && !entry.result) this.store.onResult(entry, onReady);
  }

  wait(client: WaitClient, requestId: number, ids: string[], numReturns: number, timeoutMs: number | null, taskId: string | undefined): void {
    // An id the store does not know was freed or lost: it counts as ready (get will say why).
    const entries = ids.map((id) => this.store.get(id));
    const readyNow = (): string[] => entries
      .map((entry, i) => ({ id: ids[i] as string, seq: entry ? (entry.result || entry.location || entry.spilled ? entry.seq : -1) : 0 }))
      .filter((item) => item.seq >= 0)
      .sort((a, b) => a.seq - b.seq)
      .slice(0, numReturns)
      .map((item) => item.id);
    let ready = readyNow();
    if (ready.length >= numReturns || timeoutMs === 0) {
      this.onBlocked(taskId);
      this.onUnblocked(taskId);
      client.send({ type: 'wait-result', requestId, readyIds: ready });
      return;
    }
    const call = this.#openCall(client, requestId, taskId);
    // Counted now: what is here (or unknown); the rest counts when its result arrives here. An
    // object ready on another node is in `ready` already but is fetched first (its onResult
    // below), and must not count twice: that would end the wait before `numReturns` are ready.
    let count = entries.filter((entry) => !entry || entry.result).length;
    const finish = (): void => {
      if (call.done) return;
      this.#close(client, requestId, call);
      ready = readyNow();
      client.send({ type: 'wait-result', requestId, readyIds: ready });
    };
    const onReady = (): void => {
      count += 1;
      if (count >= numReturns) finish();
    };
    for (const entry of entries) if (entry && !entry.result) this.store.onResult(entry, onReady);
    if (timeoutMs !== null) call.timer = setTimeout(finish, timeoutMs);
  }

  /** The client gave up on a call (its get timed out). */
  cancel(client: WaitClient, requestId: number): void {
    const call = this.#open.get(client.id)?.get(requestId);
    if (call) this.#close(client, requestId, call);
  }

  /** The client went away: close its calls. */
  dropClient(clientId: string): void {
    const calls = this.#open.get(clientId);
    this.#open.delete(clientId);
    for (const call of calls?.values() ?? []) {
      call.done = true;
      if (call.timer) clearTimeout(call.timer);
    }
  }

  #openCall(client: WaitClient, requestId: number, taskId: string | undefined): OpenCall {
    const call: OpenCall = { done: false, taskId };
    let calls = this.#open.get(client.id);
    if (!calls) this.#open.set(client.id, (calls = new Map()));
    calls.set(requestId, call);
    this.onBlocked(taskId);
    return call;
  }

  #close(client: WaitClient, requestId: number, call: OpenCall): void {
    call.done = true;
    if (call.timer) clearTimeout(call.timer);
    this.#open.get(client.id)?.delete(requestId);
    this.onUnblocked(call.taskId);
  }
}

function resultOf(entry: ObjectEntry | undefined, id: string): Result {
  if (entry?.result) return entry.result;
  return { status: 'error', error: { code: ERROR_CODES.OBJECT_LOST,
    message: `object ${id} is not in the object store: it was freed (no ref to it was alive) or never existed` } };
}
