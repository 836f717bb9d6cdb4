/**
 * The node's worker_threads. Workers start ahead of need (one per CPU), more start when every
 * worker is busy but resources are free (tasks that need no CPU, or CPUs lent by tasks waiting in
 * `get`), and a worker that dies is replaced. Each worker speaks the protocol over its port.
 *
 * A worker's lifecycle: starting → ready → (stopping) → dead. "dead" is reached from any state
 * when the thread exits, for whatever reason; the pool reports it with the exit's cause.
 */
import type { MessagePort, Worker } from 'node:worker_threads';
import { PortConnection, nodeSideRuns, logger, validateClientMessage, type ClientMessage, type NodeToWorker } from '@weft/protocol';
import { TsCompiler, expectsTypeScript } from './ts-compiler.ts';
import { startWorkerThread, workersAtOnce, type StartedThread } from './worker-threads.ts';

const WORKER_READY_TIMEOUT_MS = 60_000;

/** One worker thread as the node sees it. */
export class WorkerHandle {
  readonly id: string;
  readonly thread: Worker;
  /** In: any client message (what the validator takes; ClientHandler drops a driver's). */
  readonly conn: PortConnection<ClientMessage, NodeToWorker>;
  state: 'starting' | 'ready' | 'stopping' | 'dead' = 'starting';
  /** 'task' workers run tasks; an 'actor' worker hosts one actor for its life. */
  readonly role: 'task' | 'actor';
  /** Tasks assigned to this worker and not finished, by id (started or sent ahead). */
  readonly tasks = new Set<string>();
  /** Tasks sent ahead that have not started, in the order the worker will start them. */
  readonly backlog: string[] = [];
  /** How many tasks are running and not waiting in `get`. */
  active = 0;
  /** Resources of the task that started last: tasks sent ahead must need exactly these. */
  shape: Record<string, number> | undefined;
  /**
   * Whether tasks may queue behind the one that started last: only behind a tiny task, and only
   * shortly after it started, so that nothing waits behind a long task while a worker is free.
   */
  aheadUntil = 0;
  /** The dispatch pass that last sent this worker tasks ahead (a refill goes on within its pass). */
  refillPass = -1;
  /** Why the node ended this worker on purpose (a cancel); absent when it died by itself. */
  killedFor: string | undefined;
  /**
   * Calls cancelled while other calls ran beside them here (maxConcurrency > 1), still running:
   * JavaScript cannot interrupt them, and ending the worker would end the others. While any is,
   * the worker takes no new task; the node ends it once nothing else runs in it.
   */
  readonly cancelled = new Set<string>();
  /** The last error the thread raised (an uncaught exception, out of memory). */
  lastError: Error | undefined;

  /** Settles when the worker is ready, or fails when it exits first. */
  readonly started: Promise<void>;
  settleStart: (error?: Error) => void = () => {};

  constructor(id: string, thread: Worker, port: MessagePort, role: 'task' | 'actor') {
    this.id = id;
    this.role = role;
    this.thread = thread;
    // What a worker sends is checked as a driver's messages are: user code runs in it, and may post on its port.
    this.conn = new PortConnection<ClientMessage, NodeToWorker>(port, { validate: validateClientMessage, remote: `worker ${id}`, runs: nodeSideRuns });
    this.started = new Promise((resolve, reject) => {
      this.settleStart = (error) => (error ? reject(error) : resolve());
    });
    this.started.catch(() => {}); // observed by start() only for the first workers
  }
}

/** Options of the pool. */
export interface WorkerPoolOptions {
  nodeId: string;
  jobId: string;
  /** The embedded driver's job, whose modules may be anywhere on this machine; undefined on cluster nodes. */
  localJobId: string | undefined;
  workingDir: string;
  /** Workers started up front and kept. */
  minWorkers: number;
  /** Workers at most (extra ones serve zero-CPU tasks and lent CPUs). */
  maxWorkers: number;
  /** Modules each worker imports before the users' (NodeOptions.workerPreload). */
  preload: string[];
  /** Heap limit per worker, MiB. Absent: Node's default. */
  heapLimitMb?: number;
  /** Modules the workers are likely to import: the TypeScript ones are compiled as they start. */
  precompile?: readonly string[];
  /** Task worker threads started already (with these options): the first ones spawned. */
  started?: StartedThread[];
  /** A message from a worker. */
  onMessage(worker: WorkerHandle, message: ClientMessage): void;
  /** A worker became ready for tasks. */
  onReady(worker: WorkerHandle): void;
  /** A worker's thread ended. */
  onExit(worker: WorkerHandle, exitCode: number): void;
}

export class WorkerPool {
  readonly workers = new Map<string, WorkerHandle>();
  readonly #options: WorkerPoolOptions;
  readonly #log = logger('worker-pool');
  /** Compiles the TypeScript modules of every worker here (their loaders ask it over a port each). */
  readonly #compiler = new TsCompiler();
  #stopping = false;
  /** Threads started before the pool, not taken yet. */
  readonly #started: StartedThread[];

  constructor(options: WorkerPoolOptions) {
    this.#options = options;
    this.#started = [...(options.started ?? [])];
  }

  /**
   * Start the initial workers: as many as workersAtOnce() says, and the rest once those are
   * ready; resolves then (the rest are on their way).
   */
  async start(): Promise<void> {
    const first = workersAtOnce(this.#options.minWorkers);
    const started = Array.from({ length: first }, () => this.spawn());
    // After the spawns: the threads start while esbuild loads (and compiles what they will import).
    if (expectsTypeScript(this.#options.workingDir)) this.#compiler.warmUp();
    this.#compiler.precompile(this.#options.precompile ?? []);
    const timeout = new Promise<never>((_, reject) => {
      const timer = setTimeout(() => reject(new Error(`workers did not start within ${WORKER_READY_TIMEOUT_MS} ms`)), WORKER_READY_TIMEOUT_MS);
      timer.unref();
    });
    await Promise.race([Promise.all(started.map((worker) => worker.started)), timeout]);
    // A worker of these that fails to start is replaced as any that dies (onExit).
    for (let i = first; i < this.#options.minWorkers && !this.#stopping; i++) this.spawn();
  }

  /** A ready worker with no active task and no backlog (preferring one with no task at all), if any. */
  idleWorker(): WorkerHandle | undefined {
    let fallback: WorkerHandle | undefined;
    for (const worker of this.workers.values()) {
      if (!takesTasks(worker) || worker.active > 0 || worker.backlog.length > 0) continue;
      if (worker.tasks.size === 0) return worker;
      fallback ??= worker;
    }
    return fallback;
  }

  /**
   * The busy worker with the shortest backlog whose current task needs `shape` and that may take
   * a task ahead in dispatch pass `pass`, if any. A worker is refilled once its backlog is down to
   * half of `depth`, then up to `depth` within that pass: tasks go ahead in batches (one message
   * for many, and the worker answers them in one), not one per task that ended.
   */
  pipelineWorker(shape: Record<string, number>, depth: number, pass: number): WorkerHandle | undefined {
    let best: WorkerHandle | undefined;
    const now = performance.now();
    for (const worker of this.workers.values()) {
      if (!takesTasks(worker) || worker.active === 0 || worker.backlog.length >= depth || worker.aheadUntil < now) continue;
      if (worker.refillPass !== pass && worker.backlog.length > depth / 2) continue;
      if (!sameResources(worker.shape, shape)) continue;
      if (!best || worker.backlog.length < best.backlog.length) best = worker;
    }
    if (best) best.refillPass = pass;
    return best;
  }

  /** Whether a new worker may start (and none is starting already). */
  canGrow(): boolean {
    if (this.#stopping || this.taskWorkers() >= this.#options.maxWorkers) return false;
    for (const worker of this.workers.values()) if (worker.role === 'task' && worker.state === 'starting') return false;
    return true;
  }

  /** Start a worker for one actor (not counted against maxWorkers, never given tasks). */
  spawnActorWorker(): WorkerHandle {
    return this.spawn('actor');
  }

  /** How many task workers there are. */
  taskWorkers(): number {
    let count = 0;
    for (const worker of this.workers.values()) if (worker.role === 'task') count += 1;
    return count;
  }

  spawn(role: 'task' | 'actor' = 'task'): WorkerHandle {
    const started = (role === 'task' ? this.#started.shift() : undefined) ?? startWorkerThread(this.#options);
    const { id, thread, compilerPort } = started;
    this.#compiler.serve(compilerPort);
    const worker = new WorkerHandle(id, thread, started.port, role);
    this.workers.set(id, worker);
    worker.conn.onMessage((message) => {
      if (message.type === 'worker-ready') {
        worker.state = 'ready';
        worker.settleStart();
        this.#options.onReady(worker);
        return;
      }
      this.#options.onMessage(worker, message);
    });
    const raised = (error: Error): void => {
      worker.lastError = error;
      this.#log.warn({ workerId: id, err: error }, 'worker raised an uncaught error');
    };
    const ended = (code: number): void => {
      worker.state = 'dead';
      compilerPort.close();
      worker.settleStart(new Error(`worker ${id} exited (code ${code}) while starting: ${worker.lastError?.message ?? 'no error reported'}`));
      this.workers.delete(id);
      if (!this.#stopping) this.#options.onExit(worker, code);
    };
    thread.on('error', raised);
    // A thread started before the pool may have failed or ended already: its events are gone.
    if (started.lastError !== undefined) raised(started.lastError);
    if (started.exitCode !== undefined) {
      const code = started.exitCode;
      queueMicrotask(() => ended(code));
    } else {
      thread.on('exit', ended);
    }
    return worker;
  }

  /** End one worker at once (a cancelled task runs in it). */
  kill(worker: WorkerHandle, reason: string): void {
    worker.killedFor = reason;
    worker.state = 'stopping';
    void worker.thread.terminate();
  }

  /** End every worker. */
  async stop(): Promise<void> {
    this.#stopping = true;
    const threads = [...this.workers.values()].map((worker) => worker.thread);
    for (const started of this.#started.splice(0)) {
      started.compilerPort.close();
      threads.push(started.thread);
    }
    await Promise.all(threads.map((thread) => thread.terminate()));
    this.workers.clear();
    this.#compiler.close();
  }
}

/** Whether the node may give `worker` a task: a ready task worker with no cancelled call still running. */
export function takesTasks(worker: WorkerHandle): boolean {
  return worker.role === 'task' && worker.state === 'ready' && worker.cancelled.size === 0;
}

function sameResources(a: Record<string, number> | undefined, b: Record<string, number>): boolean {
  if (!a) return false;
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  return keys.every((key) => a[key] === b[key]);
}
