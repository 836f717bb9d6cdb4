/**
 * The actors of this node: their lifecycle, their workers and their method calls.
 *
 *                    placed, constructor returned
 *   pending ─────────────────────────────────────▶ alive ◀──────────────────┐
 *      │                                             │                      │ constructor
 *      │ constructor threw / name taken /            │ worker died,         │ returned again
 *      │ cannot be placed                            │ restarts left        │
 *      ▼                                             ▼                      │
 *    dead ◀──── kill() / worker died, no restarts ── restarting ────────────┘
 *                 left / constructor threw
 *
 * The head placed each actor here (and its name was claimed before). An actor that reserves no
 * CPU lives in a shared actor worker (the least loaded of a few per job, DESIGN "Actors at
 * scale"); one with `numCpus > 0` or `isolated` in a worker of its own. Calls queue here in submission order and go to the
 * worker once the actor is alive and their ObjectRef arguments exist; the worker runs them in that
 * order (overlapping async ones up to maxConcurrency). When the worker dies, calls in flight are
 * retried after the restart if `maxTaskRetries` allows, else fail with ActorDiedError; queued
 * calls wait for the restart. Whether it restarts is the head's to say: it keeps the one restart
 * count of each actor (worker deaths here and node deaths alike) against `maxRestarts`. A dead
 * actor's record stays (the last MAX_DEAD_RECORDS of them), so that later calls fail at once
 * with the reason it died.
 */
import {
  ERROR_CODES, argumentObjectIds, logger, type ErrorPayload, type ActorCallSpec, type ActorInfo, type ActorLocation,
  type ActorSpec, type EncodedValue, type Result,
} from '@weft/protocol';
import type { ObjectStore } from './object-store.ts';
import type { LocalScheduler } from './local-scheduler.ts';
import type { WorkerHandle, WorkerPool } from './worker-pool.ts';

/** Where the manager reports its actors' states and asks for restarts (the head). */
export interface ActorReports {
  actorState(location: ActorLocation): void;
  /** Where the head says an actor lives (null: it does not know it). */
  findActor(query: { actorId: string }): Promise<ActorLocation | null>;
  /** A restart after its worker died: the restart number granted, or null when its restarts are spent. */
  restartActor(actorId: string, cause: string): Promise<number | null>;
}

/** Dead actors whose records (and reason of death) are kept for the calls that still name them. */
const MAX_DEAD_RECORDS = 1_000;
/**
 * How long calls to an actor the head placed here may wait for the head's word to host it: the
 * caller heard of the placement from the head and sent them over another connection, which may
 * be faster.
 */
const HOST_WAIT_MS = 30_000;

interface CallRecord {
  readonly call: ActorCallSpec;
  retries: number;
  readonly pinned: string[];
}

interface ActorRecord {
  readonly spec: ActorSpec;
  /** The node that created it, and its restarts so far as the head counted them (told with each grant). */
  readonly placed: { owner: string; restarts: number };
  state: ActorInfo['state'];
  worker: WorkerHandle | undefined;
  /** Whether it gets a worker of its own (it holds CPUs, or asked to be isolated). */
  readonly isolated: boolean;
  /** Why it died; set when dead. */
  deathCause: string | undefined;
  /** Whether it holds its resources now. */
  holding: boolean;
  readonly queue: CallRecord[];
  readonly inflight: Map<string, CallRecord>;
  /** Calls that ended here (answered or failed), over its restarts. */
  calls: number;
  /** Ids pinned for the constructor's arguments, while the actor may (re)start. */
  readonly pinned: string[];
}

export class ActorManager {
  readonly #actors = new Map<string, ActorRecord>();
  /** The actors each actor worker hosts (one for an isolated actor's worker). */
  readonly #byWorker = new Map<WorkerHandle, Set<ActorRecord>>();
  /** The shared actor workers of each job. */
  readonly #shared = new Map<string, Set<WorkerHandle>>();
  /** Jobs whose driver left while some of their shared workers still host (detached) actors. */
  readonly #endedJobs = new Set<string>();
  /** The actor of each call in flight, by call id. */
  readonly #inflight = new Map<string, ActorRecord>();
  readonly #toPlace: ActorRecord[] = [];
  /** Calls that came for actors not (yet) hosted here, by actor id, in arrival order. */
  readonly #early = new Map<string, { calls: CallRecord[]; timer: NodeJS.Timeout }>();
  /** Ids of dead actors here, oldest first. */
  readonly #dead = new Set<string>();
  readonly #log = logger('actor-manager');

  constructor(
    private readonly nodeId: string,
    private readonly store: ObjectStore,
    private readonly scheduler: LocalScheduler,
    private readonly pool: WorkerPool,
    private readonly reports: ActorReports,
    /** Shared actor workers per job: actors that reserve no CPU spread over up to this many. */
    private readonly sharedWorkers = 1,
  ) {}

  /**
   * Host an actor the head placed here. It is known (and takes calls, which queue) at once; it is
   * placed once `installed` (its job's code on this node) and its arguments are ready.
   */
  create(spec: ActorSpec, installed: Promise<unknown> = Promise.resolve(), placed = { owner: this.nodeId, restarts: 0 }): void {
    const pinned = argumentObjectIds(spec);
    const isolated = spec.options.isolated === true || (spec.options.resources.CPU ?? 0) > 0;
    const actor: ActorRecord = { spec, placed: { ...placed }, state: 'pending', worker: undefined, isolated, deathCause: undefined, holding: false,
      queue: [], inflight: new Map(), calls: 0, pinned };
    this.#actors.set(spec.actorId, actor);
    this.#dead.delete(spec.actorId);
    this.store.pin(pinned);
    // Calls that arrived before the word to host it go first, in their order.
    const early = this.#early.get(spec.actorId);
    this.#early.delete(spec.actorId);
    clearTimeout(early?.timer);
    actor.queue.push(...(early?.calls ?? []));
    this.#report(actor);
    installed.then(() => {
      if (actor.state === 'dead') return;
      this.#whenArgsReady(actor, () => {
        this.#toPlace.push(actor);
        this.scheduler.dispatch();
      });
    }, (error: unknown) => {
      if (actor.state !== 'dead') this.#die(actor, `its job's code could not be installed on node ${this.nodeId}: ${error instanceof Error ? error.message : String(error)}`);
    });
  }

  /** Place the actors waiting for resources (called before tasks are dispatched). */
  placePending(): void {
    while (this.#toPlace.length > 0) {
      const actor = this.#toPlace[0] as ActorRecord;
      if (actor.state === 'dead') {
        this.#toPlace.shift();
        continue;
      }
      if (!this.scheduler.reserve(actor.spec.options.placement, actor.spec.options.resources)) return;
      this.#toPlace.shift();
      actor.holding = true;
      this.#start(actor);
    }
  }

  #start(actor: ActorRecord): void {
    const worker = actor.isolated ? this.pool.spawnActorWorker() : this.#sharedWorker(actor.spec.jobId);
    actor.worker = worker;
    let hosted = this.#byWorker.get(worker);
    if (!hosted) {
      hosted = new Set();
      this.#byWorker.set(worker, hosted);
    }
    hosted.add(actor);
    void worker.started.then(() => {
      if (actor.worker !== worker || actor.state === 'dead') return;
      worker.conn.send({ type: 'create-actor-instance', spec: actor.spec, argValues: this.#argValues(actor.spec.argRefs) });
    }, () => {}); // a worker that exits while starting is handled by workerExited
  }

  /** The least loaded shared actor worker of a job, a new one while it has fewer than `sharedWorkers`. */
  #sharedWorker(jobId: string): WorkerHandle {
    let workers = this.#shared.get(jobId);
    if (!workers) {
      workers = new Set();
      this.#shared.set(jobId, workers);
    }
    let best: WorkerHandle | undefined;
    for (const worker of workers) {
      if (worker.state === 'stopping' || worker.state === 'dead') continue;
      if (!best || this.#load(worker) < this.#load(best)) best = worker;
    }
    if (best && (workers.size >= this.sharedWorkers || this.#load(best) === 0)) return best;
    const worker = this.pool.spawnActorWorker();
    workers.add(worker);
    return worker;
  }

  #load(worker: WorkerHandle): number {
    return this.#byWorker.get(worker)?.size ?? 0;
  }

  /** An actor's worker reports its constructor's outcome. */
  created(worker: WorkerHandle, actorId: string, result: Result): void {
    const actor = this.#actors.get(actorId);
    if (!actor || actor.worker !== worker || actor.state === 'dead') return;
    if (result.status === 'error') {
      const message = result.error.code === ERROR_CODES.TASK_ERROR
        ? `its constructor threw ${result.error.remoteName ?? 'Error'}: ${result.error.message}`
        : `it could not be created: ${result.error.message}`;
      this.#die(actor, message);
      return;
    }
    actor.state = 'alive';
    this.#report(actor);
    this.#pump(actor);
  }

  /** Whether this node hosts the actor (alive or not). */
  has(actorId: string): boolean {
    return this.#actors.has(actorId);
  }

  /** Queue a call; `ownerNode`: the node that owns its result when the call came from another node. */
  submit(call: ActorCallSpec, owner: string, ownerNode?: string): void {
    this.store.addHolder(call.callId, owner);
    if (ownerNode !== undefined) this.store.returnResultTo(call.callId, ownerNode);
    const pinned = argumentObjectIds(call);
    this.store.pin(pinned);
    const record: CallRecord = { call, retries: 0, pinned };
    const actor = this.#actors.get(call.actorId);
    if (!actor) return this.#waitForHost(record);
    if (actor.state === 'dead') return this.#fail(record, this.#deadError(actor, call));
    actor.queue.push(record);
    this.#pump(actor);
  }

  /**
   * A call for an actor not hosted here: it waits if the head placed the actor here (the word to
   * host it is on its way, over another connection), else it fails.
   */
  #waitForHost(record: CallRecord): void {
    const { actorId } = record.call;
    const waiting = this.#early.get(actorId);
    if (waiting) {
      waiting.calls.push(record);
      return;
    }
    const fail = (why: string): void => {
      const early = this.#early.get(actorId);
      this.#early.delete(actorId);
      clearTimeout(early?.timer);
      for (const call of early?.calls ?? []) this.#fail(call, { code: ERROR_CODES.ACTOR_DIED, message: `${call.call.name}: actor ${actorId} ${why}` });
    };
    const timer = setTimeout(() => fail(`was placed on node ${this.nodeId} but not hosted there within ${HOST_WAIT_MS / 1000} s`), HOST_WAIT_MS);
    timer.unref();
    this.#early.set(actorId, { calls: [record], timer });
    this.reports.findActor({ actorId }).then((location) => {
      if (location && location.nodeId === this.nodeId && location.state !== 'dead') return; // its word to host it comes
      fail(`is not known on node ${this.nodeId} (${location ? `it is ${location.state} on node ${location.nodeId}` : 'the cluster does not know it: it was never created, or its driver ended'})`);
    }, (error: unknown) => fail(`is not known on node ${this.nodeId}, and the head could not be asked (${error instanceof Error ? error.message : String(error)})`));
  }

  /** Send queued calls, in order, while the actor is alive and the next call's arguments exist. */
  #pump(actor: ActorRecord): void {
    while (actor.state === 'alive' && actor.worker && actor.queue.length > 0) {
      const next = actor.queue[0] as CallRecord;
      const missing = next.call.argRefs.map(([, id]) => this.store.ensure(id)).find((entry) => !entry.result);
      if (missing) {
        this.store.onResult(missing, () => this.#pump(actor));
        return;
      }
      actor.queue.shift();
      const failed = next.call.argRefs.map(([, id]) => this.store.get(id)?.result).find((r) => r?.status === 'error');
      if (failed) {
        this.#finish(next, failed);
        continue;
      }
      actor.inflight.set(next.call.callId, next);
      this.#inflight.set(next.call.callId, actor);
      actor.worker.conn.send({ type: 'actor-call', call: next.call, argValues: this.#argValues(next.call.argRefs) });
    }
  }

  /** The actor's worker reports a call's outcome. */
  callDone(worker: WorkerHandle, callId: string, result: Result): void {
    const actor = this.#inflight.get(callId);
    const record = actor?.inflight.get(callId);
    if (!actor || !record || actor.worker !== worker) return;
    this.#inflight.delete(callId);
    actor.inflight.delete(callId);
    actor.calls += 1;
    this.#finish(record, result);
  }

  /** Kill an actor; false when it was dead already or unknown. */
  kill(actorId: string): boolean {
    const actor = this.#actors.get(actorId);
    if (!actor || actor.state === 'dead') return false;
    this.#die(actor, 'it was killed with kill()');
    return true;
  }

  /** The driver of `jobId` left: its actors go, but detached ones. */
  killJob(jobId: string): void {
    for (const actor of this.#actors.values()) {
      if (actor.spec.jobId === jobId && !actor.spec.options.detached && actor.state !== 'dead') this.#die(actor, 'its driver exited');
    }
    // Shared workers left with no actor (none detached) end with their job.
    for (const worker of this.#shared.get(jobId) ?? []) {
      if (this.#load(worker) === 0) this.#retire(worker, `job ${jobId} ended`);
    }
    // Those left end when their last actor does.
    if (this.#shared.has(jobId)) this.#endedJobs.add(jobId);
  }

  #retire(worker: WorkerHandle, why: string): void {
    this.#byWorker.delete(worker);
    for (const [jobId, workers] of this.#shared) {
      if (workers.delete(worker) && workers.size === 0) {
        this.#shared.delete(jobId);
        this.#endedJobs.delete(jobId);
      }
    }
    if (worker.state !== 'dead') this.pool.kill(worker, why);
  }

  /** How many actors here are not dead (each heartbeat says it). */
  liveCount(): number {
    return this.#actors.size - this.#dead.size;
  }

  /** The actors hosted here, for the state API. */
  list(): ActorInfo[] {
    return [...this.#actors.values()].map((actor) => ({ actorId: actor.spec.actorId, className: actor.spec.cls.name, state: actor.state,
      ...(actor.spec.options.name !== undefined ? { name: actor.spec.options.name } : {}), restarts: actor.placed.restarts, calls: actor.calls }));
  }

  /** The actors here, with what a restarted head needs to restart the live ones elsewhere. */
  placements(): Array<{ location: ActorLocation; placed?: { spec: ActorSpec; owner: string; restarts: number } }> {
    return [...this.#actors.values()].map((actor) => ({
      location: this.#location(actor), ...(actor.state === 'dead' ? {} : { placed: { spec: actor.spec, ...actor.placed } }),
    }));
  }

  /**
   * An actor worker ended: for each of its actors the head says whether it restarts (within that
   * actor's own budget); meanwhile it is restarting and calls queue.
   */
  workerExited(worker: WorkerHandle, cause: string): void {
    const hosted = this.#byWorker.get(worker);
    this.#retire(worker, cause);
    for (const actor of hosted ?? []) if (actor.worker === worker) this.#workerLost(actor, cause);
  }

  #workerLost(actor: ActorRecord, cause: string): void {
    actor.worker = undefined;
    if (actor.state === 'dead') return;
    // (A shared worker may die for a neighbour's sake: an actor still constructing there asks for a restart.)
    if (actor.state === 'pending' && actor.isolated) {
      this.#die(actor, `its worker died (${cause}) before it started`);
      return;
    }
    actor.state = 'restarting';
    this.#report(actor);
    this.#settleInflight(actor, cause);
    const { maxRestarts } = actor.spec.options;
    this.reports.restartActor(actor.spec.actorId, cause).then((restart) => {
      if (actor.state === 'dead') return;
      if (restart === null) {
        this.#die(actor, `its worker died (${cause}), and it has no restarts left (maxRestarts: ${maxRestarts})`);
        return;
      }
      actor.placed.restarts = restart;
      this.#log.warn({ actorId: actor.spec.actorId, restart, cause }, 'actor worker died; restarting the actor');
      this.#start(actor);
    }, (error: unknown) => {
      if (actor.state !== 'dead') {
        this.#die(actor, `its worker died (${cause}), and the head, which grants restarts, could not be asked (${error instanceof Error ? error.message : String(error)})`);
      }
    });
  }

  /** Calls in flight when the worker died either go first again after the restart, or fail now. */
  #settleInflight(actor: ActorRecord, cause: string): void {
    const { maxTaskRetries } = actor.spec.options;
    const retry: CallRecord[] = [];
    for (const record of actor.inflight.values()) {
      this.#inflight.delete(record.call.callId);
      if (maxTaskRetries < 0 || record.retries < maxTaskRetries) {
        record.retries += 1;
        retry.push(record);
      } else {
        this.#fail(record, { code: ERROR_CODES.ACTOR_DIED, message: `${record.call.name} failed: actor ${actor.spec.actorId} died while running it (${cause}); `
          + `the actor is restarting, and the call is not retried (maxTaskRetries: ${maxTaskRetries})` });
      }
    }
    actor.inflight.clear();
    actor.queue.unshift(...retry);
  }

  #report(actor: ActorRecord): void {
    this.reports.actorState(this.#location(actor));
  }

  #location(actor: ActorRecord): ActorLocation {
    return { actorId: actor.spec.actorId, className: actor.spec.cls.name, nodeId: this.nodeId, state: actor.state,
      ...(actor.spec.options.name !== undefined ? { name: actor.spec.options.name } : {}) };
  }

  #die(actor: ActorRecord, cause: string): void {
    actor.state = 'dead';
    actor.deathCause = cause;
    this.#report(actor); // the head frees its name
    for (const record of [...actor.inflight.values(), ...actor.queue]) this.#fail(record, this.#deadError(actor, record.call));
    for (const callId of actor.inflight.keys()) this.#inflight.delete(callId);
    actor.inflight.clear();
    actor.queue.length = 0;
    this.store.unpin(actor.pinned);
    actor.pinned.length = 0;
    if (actor.holding) {
      actor.holding = false;
      this.scheduler.release(actor.spec.options.resources);
    }
    const worker = actor.worker;
    actor.worker = undefined;
    if (worker) {
      this.#byWorker.get(worker)?.delete(actor);
      // An isolated actor's worker goes with it; in a shared one, the actor alone goes (its queued
      // calls and timers with it) and its neighbours go on.
      if (actor.isolated) this.#retire(worker, `actor ${actor.spec.actorId} died`);
      else if (this.#load(worker) === 0 && this.#endedJobs.has(actor.spec.jobId)) this.#retire(worker, `the last actor of ended job ${actor.spec.jobId} died`);
      else worker.conn.send({ type: 'drop-actor', actorId: actor.spec.actorId });
    }
    this.#log.info({ actorId: actor.spec.actorId, cause }, 'actor died');
    this.#dead.add(actor.spec.actorId);
    for (const oldest of this.#dead) {
      if (this.#dead.size <= MAX_DEAD_RECORDS) break;
      this.#dead.delete(oldest);
      this.#actors.delete(oldest);
    }
  }

  #deadError(actor: ActorRecord, call: ActorCallSpec): ErrorPayload {
    return { code: ERROR_CODES.ACTOR_DIED, message: `${call.name} failed: actor ${actor.spec.cls.name} (${actor.spec.actorId}) is dead: ${actor.deathCause ?? 'unknown cause'}` };
  }

  #whenArgsReady(actor: ActorRecord, then: () => void): void {
    const pending = actor.spec.argRefs.map(([, id]) => this.store.ensure(id)).filter((entry) => !entry.result);
    let left = pending.length;
    if (left === 0) return this.#checkArgs(actor, then);
    for (const entry of pending) this.store.onResult(entry, () => { if (--left === 0) this.#checkArgs(actor, then); });
  }

  #checkArgs(actor: ActorRecord, then: () => void): void {
    const failed = actor.spec.argRefs.map(([, id]) => this.store.get(id)?.result).find((r) => r?.status === 'error');
    if (failed?.status === 'error') this.#die(actor, `an argument of its constructor failed: ${failed.error.message}`);
    else then();
  }

  #argValues(argRefs: Array<[number, string]>): Array<[string, EncodedValue]> {
    const values: Array<[string, EncodedValue]> = [];
    for (const [, id] of argRefs) {
      const result = this.store.get(id)?.result;
      if (result?.status === 'ok') values.push([id, result.value]);
    }
    return values;
  }

  #fail(record: CallRecord, error: ErrorPayload): void {
    this.#finish(record, { status: 'error', error });
  }

  #finish(record: CallRecord, result: Result): void {
    this.store.complete(record.call.callId, result);
    this.store.unpin(record.pinned);
  }
}
