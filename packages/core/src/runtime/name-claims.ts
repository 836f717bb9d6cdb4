/**
 * Actor names claimed at the head while `.remote()` waits, for a driver that joined a cluster
 * over the network. `.remote()` is synchronous and a name must be refused at the call that reuses
 * it, as in embedded mode and in workers (and in Ray), but this thread's own connection cannot be
 * read while it waits. So a helper thread, started at the first named actor, holds a second
 * connection to the same node; this thread posts it the claim and blocks in Atomics.wait until the
 * helper has the answer (a round trip to the head; the first claim also pays the helper's start).
 */
import { MessageChannel, Worker, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { ERROR_CODES, SystemError } from '@weft/protocol';

/** How long a claim waits before it fails (the cluster is unreachable). */
const CLAIM_TIMEOUT_MS = 30_000;
const THREAD = new URL('./name-claim-thread.js', import.meta.url);

/** Where the helper connects: the driver's own address and credentials. */
export interface ClaimTarget {
  url: string;
  token: string;
  tlsCa?: string | Buffer;
}

/** What the helper answers, on the reply port, before it wakes the waiting thread. */
export type ClaimAnswer = { claimed: boolean } | { error: string };

/** A claim posted to the helper. */
export interface ClaimRequest {
  name: string;
  actorId: string;
  signal: SharedArrayBuffer;
}

export class NetworkNameClaims {
  #thread: Worker | undefined;
  #replies: MessagePort | undefined;

  constructor(private readonly target: ClaimTarget) {}

  /** Claim `name` for `actorId`; false when a live actor has it. */
  claim(name: string, actorId: string): boolean {
    const { thread, replies } = this.#start();
    const signal = new SharedArrayBuffer(4);
    const answer = new Int32Array(signal);
    thread.postMessage({ name, actorId, signal } satisfies ClaimRequest);
    if (Atomics.wait(answer, 0, 0, CLAIM_TIMEOUT_MS) === 'timed-out') {
      throw new SystemError(`creating actor '${name}' timed out after ${CLAIM_TIMEOUT_MS / 1000} s waiting for the cluster to claim its name: is ${this.target.url} reachable?`, ERROR_CODES.SYSTEM);
    }
    const reply = receiveMessageOnPort(replies)?.message as ClaimAnswer | undefined;
    if (reply === undefined) throw new SystemError(`creating actor '${name}' failed: the name claim got no answer`, ERROR_CODES.SYSTEM);
    if ('error' in reply) throw new SystemError(`creating actor '${name}' failed: ${reply.error}`, ERROR_CODES.SYSTEM);
    return reply.claimed;
  }

  /** End the helper thread, if it started. */
  close(): void {
    void this.#thread?.terminate();
    this.#replies?.close();
    this.#thread = undefined;
    this.#replies = undefined;
  }

  #start(): { thread: Worker; replies: MessagePort } {
    if (this.#thread && this.#replies) return { thread: this.#thread, replies: this.#replies };
    const { port1, port2 } = new MessageChannel();
    const thread = new Worker(THREAD, { workerData: { ...this.target, replies: port2 }, transferList: [port2] });
    thread.unref();
    port1.unref();
    this.#thread = thread;
    this.#replies = port1;
    return { thread, replies: port1 };
  }
}
