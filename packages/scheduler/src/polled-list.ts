/**
 * A list the head reads by asking (the nodes' recent tasks, their objects, the actors), turned
 * into a feed of changes: while someone listens it asks every `intervalMs`, diffs the answer
 * against the last one by key and hands on only what changed, so the dashboard receives changes
 * rather than whole lists. Nobody listening: no asking.
 */
import { logger } from '@weft/protocol';

/** Items added or changed since the last poll (with their keys), and the keys that left. */
export interface ListChange<T> {
  changed: Array<[key: string, item: T]>;
  removed: string[];
}

/** What changed from `last` (key → serialised item) to `items`; updates `last` to match. A pure step, unit-tested. */
export function diffInto<T>(last: Map<string, string>, items: T[], key: (item: T) => string): ListChange<T> {
  const changed: Array<[string, T]> = [];
  const seen = new Set<string>();
  for (const item of items) {
    const k = key(item);
    seen.add(k);
    const text = JSON.stringify(item);
    if (last.get(k) === text) continue;
    last.set(k, text);
    changed.push([k, item]);
  }
  const removed = [...last.keys()].filter((k) => !seen.has(k));
  for (const k of removed) last.delete(k);
  return { changed, removed };
}

/** A list asked for every `intervalMs` while it has listeners, handing on what changed (see the module comment). */
export class PolledList<T> {
  readonly #last = new Map<string, string>();
  readonly #items = new Map<string, T>();
  readonly #listeners = new Set<(change: ListChange<T>) => void>();
  readonly #log = logger('polled-list');
  #timer: NodeJS.Timeout | undefined;
  #polling = false;

  constructor(private readonly query: () => Promise<T[]> | T[], private readonly key: (item: T) => string,
    private readonly intervalMs: number) {}

  /** The items of the last poll, with their keys. */
  snapshot(): Array<[string, T]> {
    return [...this.#items];
  }

  /** Calls `listener` with each non-empty change; returns the unsubscribe function. */
  subscribe(listener: (change: ListChange<T>) => void): () => void {
    this.#listeners.add(listener);
    if (this.#timer === undefined) {
      this.#timer = setInterval(() => void this.#poll(), this.intervalMs);
      this.#timer.unref();
      void this.#poll();
    }
    return () => {
      this.#listeners.delete(listener);
      if (this.#listeners.size > 0 || this.#timer === undefined) return;
      clearInterval(this.#timer);
      this.#timer = undefined;
    };
  }

  async #poll(): Promise<void> {
    // A slow answer (a node that takes long to reply) must not pile polls up behind it.
    if (this.#polling) return;
    this.#polling = true;
    try {
      const change = diffInto(this.#last, await this.query(), this.key);
      for (const [k, item] of change.changed) this.#items.set(k, item);
      for (const k of change.removed) this.#items.delete(k);
      if (change.changed.length === 0 && change.removed.length === 0) return;
      for (const listener of this.#listeners) listener(change);
    } catch (error) {
      this.#log.warn({ err: error }, 'poll failed');
    } finally {
      this.#polling = false;
    }
  }
}
