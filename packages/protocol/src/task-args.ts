/**
 * Arguments of tasks, actor constructors and actor method calls: how they are typed, encoded
 * (top-level refs kept apart, to be resolved before the call runs) and where their code lives.
 */
import path from 'node:path';
import { SENDING_A_VALUE, encode } from './codec.ts';
import { ObjectLostError, SerializationError } from './errors.ts';
import { ObjectRef } from './object-ref.ts';
import type { TaskSpec } from './messages.ts';

/** An argument as `.remote` accepts it: the value, or a ref to it (resolved before the task runs). */
export type RemoteArgs<A extends unknown[]> = { [K in keyof A]: A[K] | ObjectRef<A[K]> };

/** The module path as tasks carry it: relative to the working directory when inside it. */
export function modulePathFor(absolute: string, workingDir: string): string {
  const relative = path.relative(workingDir, absolute);
  return relative.startsWith('..') || path.isAbsolute(relative) ? absolute : relative;
}

/** @internal Encode a call's arguments, keeping top-level refs apart. */
export function encodeArgs(args: unknown[], callName: string): Pick<TaskSpec, 'args' | 'argRefs'> {
  const argRefs: Array<[number, string]> = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg instanceof ObjectRef) argRefs.push([i, arg.id]);
  }
  try {
    return { args: encode(args), argRefs };
  } catch (error) {
    if (error instanceof SerializationError) {
      throw new SerializationError(`${callName}.remote(): an argument ${error.message.replace(/^cannot send/, 'is')}`);
    }
    if (error instanceof ObjectLostError && error.message.startsWith(SENDING_A_VALUE)) {
      throw new ObjectLostError(`${callName}.remote()${error.message.slice(SENDING_A_VALUE.length)}`);
    }
    throw error;
  }
}

/**
 * @internal The ids of the objects a call's arguments refer to: its top-level refs, then the refs
 * inside the encoded values. A node pins them while the call waits and runs.
 */
export function argumentObjectIds(call: Pick<TaskSpec, 'args' | 'argRefs'>): string[] {
  return [...call.argRefs.map(([, id]) => id), ...(call.args.refs ?? [])];
}
