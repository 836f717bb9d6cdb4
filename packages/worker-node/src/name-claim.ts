/**
 * A worker claims an actor's name while `.remote()` waits, as a driver does: actor names are
 * unique while their actor lives, and reusing one fails at the call that reuses it (Ray raises
 * there too). `.remote()` is synchronous, so the worker sends the claim with a signal (shared
 * memory) and blocks in Atomics.wait until its node, having asked the head, writes the answer.
 * Only this worker's thread waits; its node and the head go on.
 */
import { NAME_CLAIM, SystemError, ERROR_CODES, type ClientMessage, type NodeToWorker, type PortConnection } from '@weft/protocol';

/** How long a claim waits for the head before it fails (the head is unreachable). */
export const NAME_CLAIM_TIMEOUT_MS = 30_000;

/** Claim `name` for `actorId` through the node on `conn`; false when a live actor has it. */
export function claimNameThroughNode(conn: PortConnection<NodeToWorker, ClientMessage>, name: string, actorId: string, timeoutMs = NAME_CLAIM_TIMEOUT_MS): boolean {
  const signal = new SharedArrayBuffer(4);
  const answer = new Int32Array(signal);
  conn.send({ type: 'claim-actor-name', requestId: 0, name, actorId, signal });
  conn.flush();
  if (Atomics.wait(answer, 0, NAME_CLAIM.WAITING, timeoutMs) === 'timed-out') {
    throw new SystemError(`creating actor '${name}' timed out after ${timeoutMs / 1000} s waiting for the head to claim its name: is the head reachable?`, ERROR_CODES.SYSTEM);
  }
  switch (Atomics.load(answer, 0)) {
    case NAME_CLAIM.CLAIMED: return true;
    case NAME_CLAIM.TAKEN: return false;
    default: throw new SystemError(`creating actor '${name}' failed: the head could not be asked to claim its name`, ERROR_CODES.SYSTEM);
  }
}
