/**
 * One pino logger per process, a child per component. Quiet by default: the level comes from
 * `WEFT_LOG_LEVEL` (default `warn`); output is JSON, pretty-printed when stderr is a terminal.
 */
import { pino, type Logger } from 'pino';

let root: Logger | undefined;

function createRoot(): Logger {
  const level = process.env.WEFT_LOG_LEVEL ?? 'warn';
  // The cluster token never reaches a log, should a field named after it ever be logged.
  const redact = { paths: ['token', '*.token', 'authorization', '*.authorization', '*.headers.authorization'], censor: '[redacted]' };
  if (process.stderr.isTTY && process.env.WEFT_LOG_PRETTY !== '0') {
    return pino({ level, redact, transport: { target: 'pino-pretty', options: { destination: 2 } } });
  }
  return pino({ level, redact }, pino.destination({ dest: 2, sync: true }));
}

/** The logger of a component, e.g. `logger('local-scheduler')`. */
export function logger(component: string): Logger {
  root ??= createRoot();
  return root.child({ component });
}

export type { Logger };
