/**
 * One pino logger per process, a child per component. Quiet by default: the level comes from
 * `WEFT_LOG_LEVEL` (default `warn`); output is JSON, pretty-printed when stderr is a terminal.
 *
 * pino is loaded at the first log call, not with this package: components make their loggers when
 * their modules load, and a worker thread, which logs nothing unless something goes wrong, would
 * load pino and its dependencies (a sixth of its start-up) for nothing.
 */
import { createRequire } from 'node:module';
import type { Logger } from 'pino';

let root: Logger | undefined;

/** pino's levels by name; a call below the configured level is a no-op, so it needs no pino. */
const LEVELS: Record<string, number> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60, silent: Infinity };
const noop = (): void => {};

function createRoot(): Logger {
  const { pino } = createRequire(import.meta.url)('pino') as typeof import('pino');
  const level = process.env.WEFT_LOG_LEVEL ?? 'warn';
  // The cluster token never reaches a log, should a field named after it ever be logged.
  const redact = { paths: ['token', '*.token', 'authorization', '*.authorization', '*.headers.authorization'], censor: '[redacted]' };
  if (process.stderr.isTTY && process.env.WEFT_LOG_PRETTY !== '0') {
    return pino({ level, redact, transport: { target: 'pino-pretty', options: { destination: 2 } } });
  }
  return pino({ level, redact }, pino.destination({ dest: 2, sync: true }));
}

/** The logger of a component, e.g. `logger('local-scheduler')`; pino's child, made at its first use. */
export function logger(component: string): Logger {
  if (root) return root.child({ component });
  let child: Logger | undefined;
  const real = (): Logger => (child ??= (root ??= createRoot()).child({ component }));
  // Bound once per method (log calls are on hot paths), again if pino replaced it (a level change).
  const bound = new Map<PropertyKey, { method: unknown; call: unknown }>();
  return new Proxy({} as Logger, {
    get(_target, key) {
      // Until something is logged (or set), calls below the level cost nothing and load nothing.
      if (!child && typeof key === 'string' && key in LEVELS && key !== 'silent'
        && (LEVELS[key] ?? 0) < (LEVELS[process.env.WEFT_LOG_LEVEL ?? 'warn'] ?? LEVELS.warn ?? 40)) return noop;
      const target = real();
      const value: unknown = Reflect.get(target, key, target);
      if (typeof value !== 'function') return value;
      let entry = bound.get(key);
      if (entry?.method !== value) {
        entry = { method: value, call: (value as (...args: unknown[]) => unknown).bind(target) };
        bound.set(key, entry);
      }
      return entry.call;
    },
    set(_target, key, value) {
      return Reflect.set(real(), key, value);
    },
  });
}

export type { Logger };
