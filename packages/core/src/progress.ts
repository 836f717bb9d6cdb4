/**
 * The progress of a map, for `progress: true` (a bar drawn with cli-progress on stderr in a
 * terminal, a line every few seconds otherwise, as in a log) or a function of the user's.
 */
import { createRequire } from 'node:module';
import type cliProgressModule from 'cli-progress';
import { currentRuntime, taskScope, type MapStatus } from '@weft/protocol';

/** What a map reports after each chunk. */
export interface MapProgress {
  /** Items whose results are in. */
  done: number;
  /** Items in all; undefined when the input is an iterable of unknown length. */
  total: number | undefined;
  /** Items that failed (the map stops at the first). */
  failed: number;
  /** Since the map began. */
  elapsedMs: number;
  /** Time left at the rate so far; undefined while unknown. */
  etaMs: number | undefined;
}

/** How often a running map tells the head how it is doing (and once more at its end). */
const REPORT_EVERY_MS = 250;

/**
 * What the cluster is told of a map (the head keeps it for `/api/maps` and the dashboard),
 * whatever the `progress` option: its counts, at most every REPORT_EVERY_MS, and its end.
 */
export function clusterProgress(name: string, total: number | undefined): ProgressReporter {
  const runtime = currentRuntime();
  if (!runtime) return { update: () => {}, stop: () => {} };
  const status: MapStatus = {
    mapId: `map-${runtime.newId()}`, jobId: taskScope.getStore()?.jobId ?? runtime.identity.jobId, name,
    done: 0, failed: 0, ...(total !== undefined ? { total } : {}), startedAt: Date.now(), updatedAt: Date.now(), state: 'running',
  };
  let lastSent = 0;
  /** A send held back by the rate limit, due REPORT_EVERY_MS after the last one. */
  let trailing: NodeJS.Timeout | undefined;
  const send = (): void => {
    clearTimeout(trailing);
    trailing = undefined;
    status.updatedAt = Math.max(Date.now(), status.updatedAt);
    lastSent = status.updatedAt;
    runtime.send({ type: 'map-progress', map: { ...status } });
  };
  send();
  return {
    update: (delta) => {
      status.done += delta.done;
      status.failed += delta.failed;
      const since = Date.now() - lastSent;
      if (since >= REPORT_EVERY_MS) send();
      else if (!trailing) {
        // The last change is reported too, even when nothing changes after it (the consumer paused).
        trailing = setTimeout(send, REPORT_EVERY_MS - since);
        trailing.unref();
      }
    },
    stop: (finished) => {
      status.state = finished ? 'finished' : status.failed > 0 ? 'failed' : 'cancelled';
      send();
    },
  };
}

/** Both reporters, in turn. */
export function bothReporters(first: ProgressReporter, second: ProgressReporter): ProgressReporter {
  return {
    update: (delta) => {
      first.update(delta);
      second.update(delta);
    },
    stop: (finished) => {
      first.stop(finished);
      second.stop(finished);
    },
  };
}

/** How often a line is printed when stderr is not a terminal. */
const LINE_EVERY_MS = 5_000;

/** Receives a map's counts as chunks finish, and its end. */
export interface ProgressReporter {
  update(delta: { done: number; failed: number }): void;
  stop(finished: boolean): void;
}

/** A reporter for the `progress` option (nothing for false or absent). */
export function progressReporter(option: boolean | ((progress: MapProgress) => void) | undefined, name: string, total: number | undefined): ProgressReporter {
  if (option === undefined || option === false) return { update: () => {}, stop: () => {} };
  const started = performance.now();
  const state = { done: 0, failed: 0 };
  const snapshot = (): MapProgress => {
    const elapsedMs = performance.now() - started;
    const etaMs = total === undefined || state.done === 0 ? undefined : (elapsedMs / state.done) * (total - state.done);
    return { done: state.done, total, failed: state.failed, elapsedMs, etaMs };
  };
  if (typeof option === 'function') {
    return {
      update: (delta) => {
        state.done += delta.done;
        state.failed += delta.failed;
        option(snapshot());
      },
      stop: () => {},
    };
  }
  return process.stderr.isTTY ? barReporter(name, total, state, snapshot) : lineReporter(name, state, snapshot);
}

/** cli-progress, loaded for the first bar: every worker imports @weft/core, and only a driver in a terminal draws bars. */
let cliProgress: typeof cliProgressModule | undefined;

function barReporter(name: string, total: number | undefined, state: { done: number; failed: number }, snapshot: () => MapProgress): ProgressReporter {
  cliProgress ??= createRequire(import.meta.url)('cli-progress') as typeof cliProgressModule;
  const bar = new cliProgress.SingleBar({
    stream: process.stderr,
    format: total === undefined ? `${name} {value} items | {rate} items/s` : `${name} [{bar}] {value}/{total} | {rate} items/s | ETA {eta_formatted}`,
    hideCursor: true, clearOnComplete: false, etaBuffer: 50,
  }, cliProgress.Presets.shades_classic);
  bar.start(total ?? 0, 0, { rate: '0' });
  return {
    update: (delta) => {
      state.done += delta.done;
      state.failed += delta.failed;
      const { elapsedMs } = snapshot();
      bar.update(state.done, { rate: rate(state.done, elapsedMs) });
    },
    stop: () => bar.stop(),
  };
}

function lineReporter(name: string, state: { done: number; failed: number }, snapshot: () => MapProgress): ProgressReporter {
  let lastLine = performance.now();
  const print = (): void => {
    const { done, total, elapsedMs, etaMs, failed } = snapshot();
    const eta = etaMs === undefined ? '' : `, ETA ${Math.ceil(etaMs / 1000)} s`;
    process.stderr.write(`${name}: ${done}${total === undefined ? '' : `/${total}`} items, ${rate(done, elapsedMs)} items/s${eta}${failed > 0 ? `, ${failed} failed` : ''}\n`);
  };
  return {
    update: (delta) => {
      state.done += delta.done;
      state.failed += delta.failed;
      if (performance.now() - lastLine < LINE_EVERY_MS) return;
      lastLine = performance.now();
      print();
    },
    stop: (finished) => {
      if (finished || state.done > 0) print();
    },
  };
}

function rate(done: number, elapsedMs: number): string {
  const perSecond = elapsedMs > 0 ? (done * 1000) / elapsedMs : 0;
  return perSecond >= 100 ? String(Math.round(perSecond)) : perSecond.toFixed(1);
}
