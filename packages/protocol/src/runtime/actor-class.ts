/**
 * Actor classes as a worker finds them: the brand every class that extends `Actor` carries (from
 * any copy of @weft/core), and the lookup of a class in a module a worker imported.
 */
import { lookupDefinition } from './function-registry.ts';

/** A class a worker can construct an actor from. */
export type ActorConstructor<T extends object = object> = new (...args: never[]) => T;

/** Marks actor classes of every copy of @weft/core (a CommonJS task module may load a second copy). */
export const ACTOR_BRAND = Symbol.for('weft.Actor');

/** Whether `value` is a class that extends Actor. */
export function isActorClass(value: unknown): value is ActorConstructor {
  return typeof value === 'function' && (value.prototype as { [ACTOR_BRAND]?: boolean } | undefined)?.[ACTOR_BRAND] === true;
}

/** Find an actor class in a module a worker imported: registered, or exported by name. */
export function findActorClass(module: string, namespace: Record<string, unknown>, name: string): ActorConstructor | undefined {
  const registered = lookupDefinition(module, name);
  if (typeof registered === 'function') return registered as ActorConstructor;
  const direct = namespace[name];
  if (isActorClass(direct)) return direct;
  return Object.values(namespace).find((value): value is ActorConstructor => isActorClass(value) && value.name === name);
}
