/**
 * Actor names, unique in the cluster while their actor lives (a dead actor's name is free again).
 */
export class ActorRegistry {
  readonly #byName = new Map<string, string>();

  /** Claim `name` for `actorId`; false when a live actor has it. */
  claim(name: string, actorId: string): boolean {
    const holder = this.#byName.get(name);
    if (holder !== undefined && holder !== actorId) return false;
    this.#byName.set(name, actorId);
    return true;
  }

  /** Free `name` if `actorId` holds it. */
  release(name: string, actorId: string): void {
    if (this.#byName.get(name) === actorId) this.#byName.delete(name);
  }

  /** The id of the live actor named `name`. */
  lookup(name: string): string | undefined {
    return this.#byName.get(name);
  }

  /** Every name and its actor. */
  entries(): Array<[name: string, actorId: string]> {
    return [...this.#byName.entries()];
  }
}
