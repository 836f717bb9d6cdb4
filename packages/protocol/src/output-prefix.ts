/**
 * How a line a task or actor wrote is shown at its driver and by `weft logs`: prefixed with where
 * it ran, as Ray does, `(square pid=1234 node=node-abc ip=10.0.0.2) hello`.
 */
import type { OutputOrigin } from './messages.ts';

/** The prefix of the lines of `name` (function, `Class.method` or actor class) written at `origin`. */
export function outputPrefix(name: string, origin: OutputOrigin): string {
  return `(${name} pid=${origin.pid} node=${origin.nodeId} ip=${origin.ip})`;
}

/** The line standing for `count` lines dropped (a bound was reached) before the ones that follow. */
export function droppedLine(prefix: string, count: number): string {
  return `${prefix} … ${count} line${count === 1 ? '' : 's'} dropped`;
}
