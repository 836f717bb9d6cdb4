/**
 * The actors of the cluster: where each lives, its state, and the names, unique in the cluster
 * while their actor lives (a dead actor's name is free again).
 */
import type { ActorLocation } from '@weft/core';

export class ActorRegistry {
  readonly #byName = new Map<string, string>();
  readonly #actors = new Map<string, ActorLocation>();

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

  /** Record where an actor is and how it is. A dead actor's name is released. */
  update(location: ActorLocation): void {
    this.#actors.set(location.actorId, location);
    if (location.name === undefined) return;
    if (location.state === 'dead') this.release(location.name, location.actorId);
    // A node reporting its actors to a restarted head brings their names back.
    else if (!this.#byName.has(location.name)) this.#byName.set(location.name, location.actorId);
  }

  /** An actor by id, or the live actor with a name. */
  find(query: { name?: string; actorId?: string }): ActorLocation | null {
    const actorId = query.actorId ?? (query.name === undefined ? undefined : this.#byName.get(query.name));
    if (actorId === undefined) return null;
    const location = this.#actors.get(actorId);
    if (!location) return null;
    if (query.name !== undefined && location.state === 'dead') return null;
    return location;
  }

  /** Every actor the head has heard of. */
  all(): ActorLocation[] {
    return [...this.#actors.values()];
  }

  /** The actors that lived on a node. */
  onNode(nodeId: string): ActorLocation[] {
    return this.all().filter((actor) => actor.nodeId === nodeId);
  }
}
