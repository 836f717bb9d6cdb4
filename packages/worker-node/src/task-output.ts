/**
 * Where what tasks and actors write goes from their node (Ray's log_to_driver): each batch from a
 * worker is kept (TaskLogs, for `weft logs`) and sent to its job's driver: at once when the driver
 * is attached to this node; else to the node that owns the task (it sent it here) over the peer
 * link its result takes next, so that a driver attached there has a task's last lines before its
 * result; else (an actor's constructor, or an owner with no driver of the job) through the head,
 * which knows the node of every job's driver and relays it there. Lines for the head wait up to RELAY_FLUSH_MS and are bounded
 * (MAX_RELAY_LINES): beyond, they are dropped and counted, as the worker does. The node's own
 * output never carries them.
 */
import { logger, type LogLine, type OutputChunk, type OutputOrigin } from '@weft/protocol';
import { TaskLogs, type LogFilter } from './task-logs.ts';

/** How long lines for the head wait for others. */
export const RELAY_FLUSH_MS = 50;
/** Lines waiting for the head; beyond, they are dropped and counted. */
export const MAX_RELAY_LINES = 10_000;

/** What the router reaches. */
export interface OutputLinks {
  /** Send to the drivers of `jobId` attached here; false when there is none. */
  toDriver(jobId: string, origin: OutputOrigin, chunks: OutputChunk[]): boolean;
  /** Send to the head, for the nodes of the jobs' drivers. */
  toHead(origin: OutputOrigin, chunks: OutputChunk[]): void;
  /** The node a task's result goes back to (it sent the task here); undefined: this one, or none. */
  ownerNode(taskId: string): string | undefined;
  /** Send to another node. */
  toPeer(nodeId: string, origin: OutputOrigin, chunks: OutputChunk[]): void;
}

export class TaskOutput {
  readonly logs = new TaskLogs();
  readonly #origin: OutputOrigin;
  readonly #links: OutputLinks;
  #relay: OutputChunk[] = [];
  #relayLines = 0;
  #timer: NodeJS.Timeout | undefined;
  readonly #log = logger('task-output');

  constructor(origin: OutputOrigin, links: OutputLinks) {
    this.#origin = origin;
    this.#links = links;
  }

  /** A batch from one of this node's workers. */
  fromWorker(chunks: OutputChunk[]): void {
    const time = Date.now();
    for (const chunk of chunks) this.logs.add(chunk, time);
    for (const [jobId, ofJob] of byJob(chunks)) {
      if (this.#links.toDriver(jobId, this.#origin, ofJob)) continue;
      const byOwner = new Map<string, OutputChunk[]>();
      for (const chunk of ofJob) {
        const owner = this.#links.ownerNode(chunk.taskId);
        if (owner === undefined) this.#toRelay([chunk]);
        else byOwner.set(owner, [...(byOwner.get(owner) ?? []), chunk]);
      }
      for (const [owner, ofOwner] of byOwner) this.#links.toPeer(owner, this.#origin, ofOwner);
    }
  }

  /** A batch from the node that ran tasks this node owns: for a driver attached here, else through the head. */
  fromPeer(origin: OutputOrigin, chunks: OutputChunk[]): void {
    for (const [jobId, ofJob] of byJob(chunks)) {
      if (!this.#links.toDriver(jobId, origin, ofJob)) this.#links.toHead(origin, ofJob);
    }
  }

  /** A batch the head relayed from another node: for drivers attached here, or for none any more. */
  fromHead(origin: OutputOrigin, chunks: OutputChunk[]): void {
    for (const [jobId, ofJob] of byJob(chunks)) this.#links.toDriver(jobId, origin, ofJob);
  }

  /** The kept lines that match, with where they were written. */
  query(filter: LogFilter): Array<LogLine & OutputOrigin> {
    return this.logs.query(filter).map((line) => ({ ...line, ...this.#origin }));
  }

  /** Send what waits for the head now (the node stops). */
  flush(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#relay.length === 0) return;
    const chunks = this.#relay;
    this.#relay = [];
    this.#relayLines = 0;
    this.#links.toHead(this.#origin, chunks);
  }

  #toRelay(chunks: OutputChunk[]): void {
    for (const chunk of chunks) {
      if (this.#relayLines + chunk.lines.length <= MAX_RELAY_LINES) {
        this.#relay.push(chunk);
        this.#relayLines += chunk.lines.length;
        continue;
      }
      // Over the bound: the chunk goes as its count, on the last chunk of its task if that is the last one waiting.
      const count = chunk.lines.length + (chunk.dropped ?? 0);
      const last = this.#relay[this.#relay.length - 1];
      if (last?.taskId === chunk.taskId && last.stream === chunk.stream && last.lines.length === 0) last.dropped = (last.dropped ?? 0) + count;
      else if (this.#relay.length < MAX_RELAY_LINES * 2) this.#relay.push({ ...chunk, lines: [], dropped: count });
      else this.#log.warn({ taskId: chunk.taskId, lines: count }, 'dropped task output waiting for the head');
    }
    if (this.#timer === undefined) {
      this.#timer = setTimeout(() => this.flush(), RELAY_FLUSH_MS);
      this.#timer.unref();
    }
  }
}

/** The chunks grouped by job, in order within each. */
function byJob(chunks: OutputChunk[]): Map<string, OutputChunk[]> {
  const jobs = new Map<string, OutputChunk[]>();
  for (const chunk of chunks) {
    const ofJob = jobs.get(chunk.jobId);
    if (ofJob) ofJob.push(chunk);
    else jobs.set(chunk.jobId, [chunk]);
  }
  return jobs;
}
