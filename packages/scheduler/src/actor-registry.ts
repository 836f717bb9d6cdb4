/**
 * The actors of the cluster: where each lives, its state, what restarting it takes (its spec and
 * owner) and its one restart count, and the names, unique in the cluster while their actor lives
 * (a dead actor's name is free again). Only this registry changes an actor's record.
 *
 * The head is the authority on an actor's life: the node that hosts it reports its states, but a
 * restart, after its worker died or its node did, is granted here and counted here, so that node
 * deaths and worker deaths together never exceed `maxRestarts`. Reports from a node the actor
 * no longer lives on (a node declared dead whose report arrives late) are ignored, so the
 * registry never shows an actor alive in two places.
 */
import type { ActorLocation, ActorSpec } from '@weft/protocol';

/** How long a name claimed for an actor that was never placed stays taken. */
export const CLAIM_LAPSE_MS = 60_000;
/** Dead actors remembered (for `weft list actors` and for calls that name them) before the oldest are forgotten. */
export const MAX_DEAD_ACTORS = 1_000;

/** What the head knows of one actor. */
export interface ActorRecord {
  location: ActorLocation;
  /** Its spec and the node that created it (the owner): what a restart elsewhere needs. Absent: not known (reported without it). */
  spec: ActorSpec | undefined;
  owner: string | undefined;
  /** Restarts so far, for any cause. */
  restarts: number;
}

export class ActorRegistry {
  readonly #byName = new Map<string, string>();
  /** When each name whose actor is not placed yet was claimed. */
  readonly #claimedAt = new Map<string, number>();
  readonly #actors = new Map<string, ActorRecord>();
  /** Ids of dead actors, oldest first (bounded by MAX_DEAD_ACTORS). */
  readonly #dead = new Set<string>();

  /**
   * Claim `name` for `actorId`; false when a live actor has it. A driver claims the name before it
   * creates the actor: a claim whose actor never came (its driver died in between) lapses after
   * CLAIM_LAPSE_MS.
   */
  claim(name: string, actorId: string): boolean {
    const holder = this.#byName.get(name);
    if (holder !== undefined && holder !== actorId) {
      const claimedAt = this.#claimedAt.get(name);
      if (this.#actors.has(holder) || claimedAt === undefined || Date.now() - claimedAt < CLAIM_LAPSE_MS) return false;
    }
    this.#byName.set(name, actorId);
    if (this.#actors.has(actorId)) this.#claimedAt.delete(name);
    else this.#claimedAt.set(name, Date.now());
    return true;
  }

  /** Free `name` if `actorId` holds it. */
  release(name: string, actorId: string): void {
    if (this.#byName.get(name) !== actorId) return;
    this.#byName.delete(name);
    this.#claimedAt.delete(name);
  }

  /** A new actor was placed on `nodeId`. */
  placed(spec: ActorSpec, owner: string, nodeId: string): void {
    if (spec.options.name !== undefined) this.#claimedAt.delete(spec.options.name);
    this.#actors.set(spec.actorId, {
      location: { actorId: spec.actorId, className: spec.cls.name, nodeId, state: 'pending', ...(spec.options.name !== undefined ? { name: spec.options.name } : {}) },
      spec, owner, restarts: 0,
    });
  }

  /**
   * The node `from` reports the state of an actor it hosts. `placed` comes with reports to a
   * restarted head, which lost its records. False (and ignored) when the actor lives on another
   * node now, or is dead here already.
   */
  reported(from: string, location: ActorLocation, placed?: { spec: ActorSpec; owner: string; restarts: number }): boolean {
    const record = this.#actors.get(location.actorId);
    if (location.nodeId !== from) return false;
    if (record && (record.location.nodeId !== from || record.location.state === 'dead')) return false;
    if (!record) {
      this.#actors.set(location.actorId, { location, spec: placed?.spec, owner: placed?.owner, restarts: placed?.restarts ?? 0 });
      // A node reporting its actors to a restarted head brings their names back.
      if (location.name !== undefined && location.state !== 'dead' && !this.#byName.has(location.name)) this.#byName.set(location.name, location.actorId);
    } else {
      record.location = location;
    }
    if (location.state === 'dead') this.#buried(location.actorId);
    return true;
  }

  /** Whether the actor may restart once more (its spec is known and its maxRestarts are not spent). */
  canRestart(actorId: string): boolean {
    const record = this.#actors.get(actorId);
    if (!record?.spec || record.location.state === 'dead') return false;
    const max = record.spec.options.maxRestarts;
    return max < 0 || record.restarts < max;
  }

  /** Count a restart (check canRestart first): it restarts on `nodeId`. Returns the restart number. */
  restarted(actorId: string, nodeId: string): number {
    const record = this.#actors.get(actorId) as ActorRecord;
    record.restarts += 1;
    record.location = { ...record.location, nodeId, state: 'restarting' };
    return record.restarts;
  }

  /** The actor is dead (killed, or its restarts are spent): its name is free, it never restarts. */
  died(actorId: string): void {
    const record = this.#actors.get(actorId);
    if (!record || record.location.state === 'dead') return;
    record.location = { ...record.location, state: 'dead' };
    this.#buried(actorId);
  }

  get(actorId: string): ActorRecord | undefined {
    return this.#actors.get(actorId);
  }

  /** An actor by id, or the live actor with a name. */
  find(query: { name?: string; actorId?: string }): ActorLocation | null {
    const actorId = query.actorId ?? (query.name === undefined ? undefined : this.#byName.get(query.name));
    if (actorId === undefined) return null;
    const location = this.#actors.get(actorId)?.location;
    if (!location) return null;
    if (query.name !== undefined && location.state === 'dead') return null;
    return location;
  }

  /** Every actor the head knows of (live ones, and the last MAX_DEAD_ACTORS dead ones). */
  all(): ActorLocation[] {
    return [...this.#actors.values()].map((record) => record.location);
  }

  /** The actors not dead that live on a node. */
  liveOn(nodeId: string): ActorLocation[] {
    return this.all().filter((actor) => actor.nodeId === nodeId && actor.state !== 'dead');
  }

  #buried(actorId: string): void {
    const record = this.#actors.get(actorId);
    if (record?.location.name !== undefined) this.release(record.location.name, actorId);
    if (record) record.spec = undefined; // no restart needs it any more
    this.#dead.add(actorId);
    for (const oldest of this.#dead) {
      if (this.#dead.size <= MAX_DEAD_ACTORS) break;
      this.#dead.delete(oldest);
      this.#actors.delete(oldest);
    }
  }
}
