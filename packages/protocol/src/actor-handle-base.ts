/**
 * The runtime class of actor handles (without their methods, which a Proxy adds in actor.ts).
 * A leaf module, so that the codec can recognise and rebuild handles without importing the
 * actor machinery (which itself needs the codec).
 */

const HANDLE_BRAND = Symbol.for('weft.ActorHandle');

/** The part of every handle that is not a method: the actor's id and class. */
export class ActorHandleBase {
  /** `x instanceof` holds for handles made by any copy of @weft/core in this thread. */
  static [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === 'object' && value !== null && (value as { [HANDLE_BRAND]?: boolean })[HANDLE_BRAND] === true;
  }

  /** The actor's id, unique in the cluster. */
  readonly actorId: string;
  /** The actor's class name. */
  readonly className: string;
  /** @internal */
  constructor(actorId: string, className: string) {
    this.actorId = actorId;
    this.className = className;
  }
  toString(): string {
    return `ActorHandle(${this.className}, ${this.actorId})`;
  }
  /** @internal */
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }
}

Object.defineProperty(ActorHandleBase.prototype, HANDLE_BRAND, { value: true });

let factory: ((actorId: string, className: string) => ActorHandleBase) | undefined;

/** @internal Set how decoded handles are made (actor.ts does, when it loads). */
export function setHandleFactory(make: (actorId: string, className: string) => ActorHandleBase): void {
  factory = make;
}

/** @internal A handle for an actor that arrived in a message. */
export function handleFromWire(actorId: string, className: string): ActorHandleBase {
  return factory ? factory(actorId, className) : new ActorHandleBase(actorId, className);
}
