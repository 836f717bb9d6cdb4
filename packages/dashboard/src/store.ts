/**
 * What the page knows of the cluster: the lists the head's live feed keeps up to date (tasks,
 * actors, objects, jobs) and the node samples it has received, which the overview charts. The
 * page polls nothing: it applies the feed's snapshot, then its changes.
 */
import type { LiveLists, LiveMessage, LiveNode } from '@weft/protocol';

/** Samples of the nodes kept (one a second: ten minutes). */
const MAX_SAMPLES = 600;
/** Tasks kept; the oldest go first. */
const MAX_TASKS = 20_000;
/** Wait before reconnecting a dropped feed. */
const RECONNECT_MS = 1_000;

type Item<K extends keyof LiveLists> = LiveLists[K][number];

/** A sample of the nodes at one moment. */
export interface NodeSample {
  at: number;
  nodes: LiveNode[];
}

/** The page's copy of the lists and the node samples, kept by the live feed. */
export class LiveStore {
  readonly lists: { [K in keyof LiveLists]: Map<string, Item<K>> } = { tasks: new Map(), actors: new Map(), objects: new Map(), jobs: new Map(), maps: new Map() };
  readonly samples: NodeSample[] = [];
  /** Whether the feed is open. */
  connected = false;
  /** Bumped on every change: views re-render on it. */
  version = 0;
  readonly #listeners = new Set<() => void>();
  #ws: WebSocket | undefined;
  #closed = false;
  #scheduled = false;

  /** @param onRefused called when the head refuses the feed (no session): the page asks to sign in again. */
  constructor(private readonly onRefused: () => void) {}

  connect(): void {
    this.#closed = false;
    const ws = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/api/live`);
    this.#ws = ws;
    ws.onopen = () => { this.connected = true; this.#changed(); };
    ws.onmessage = (event) => this.apply(JSON.parse(String(event.data)) as LiveMessage);
    ws.onclose = () => {
      this.connected = false;
      this.#changed();
      if (this.#closed) return;
      // A refused upgrade looks like any failure from here: ask whether the session still holds.
      setTimeout(() => {
        void fetch('/api/session').then((r) => (r.ok ? this.connect() : this.onRefused()), () => this.connect());
      }, RECONNECT_MS);
    };
  }

  close(): void {
    this.#closed = true;
    this.#ws?.close();
  }

  /** Applies one message of the feed. */
  apply(message: LiveMessage): void {
    switch (message.type) {
      case 'snapshot':
        for (const name of Object.keys(message.lists) as Array<keyof LiveLists>) {
          const list = this.lists[name] as Map<string, unknown>;
          list.clear();
          for (const [key, item] of message.lists[name]) list.set(key, item);
        }
        break;
      case 'changes': {
        const list = this.lists[message.list] as Map<string, unknown>;
        for (const [key, item] of message.changed) list.set(key, item);
        for (const key of message.removed) list.delete(key);
        if (message.list === 'tasks') this.#trimTasks();
        break;
      }
      case 'nodes':
        this.samples.push({ at: message.at, nodes: message.nodes });
        if (this.samples.length > MAX_SAMPLES) this.samples.splice(0, this.samples.length - MAX_SAMPLES);
        break;
    }
    this.#changed();
  }

  /** Calls `listener` (at most once a frame) after changes; returns the unsubscribe function. */
  subscribe(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #trimTasks(): void {
    const tasks = this.lists.tasks;
    for (const key of tasks.keys()) {
      if (tasks.size <= MAX_TASKS) break;
      tasks.delete(key);
    }
  }

  #changed(): void {
    this.version += 1;
    if (this.#scheduled) return;
    this.#scheduled = true;
    requestAnimationFrame(() => {
      this.#scheduled = false;
      for (const listener of this.#listeners) listener();
    });
  }
}
