/**
 * Which tasks submitted which, on this node: a task run here that submits tasks is their parent
 * (TaskSpec.parentTaskId), and a recursive cancel of it cancels them, and theirs (Ray's
 * `cancel(ref, recursive=True)`). A child is forgotten when it finishes; a parent that finishes
 * leaves its children running, unrelated. A task cancelled recursively is remembered a while: a
 * child whose submit reaches the node after the cancel (sent by the task just before its worker
 * ended) is cancelled as it arrives.
 */
export class TaskFamily {
  readonly #children = new Map<string, Set<string>>();
  readonly #parentOf = new Map<string, string>();
  /** Tasks cancelled recursively, oldest first (a Set keeps insertion order). */
  readonly #cancelled = new Set<string>();

  /** @param remembered how many recursively cancelled tasks are remembered */
  constructor(private readonly remembered = 10_000) {}

  /** `id` was cancelled recursively: children it submits from now on are cancelled too. */
  cancelledRecursively(id: string): void {
    this.#cancelled.add(id);
    if (this.#cancelled.size > this.remembered) this.#cancelled.delete(this.#cancelled.values().next().value as string);
  }

  /** Whether `id` was cancelled recursively (a child of it is cancelled as it arrives). */
  isCancelled(id: string): boolean {
    return this.#cancelled.has(id);
  }

  /** `child` was submitted by `parent` (a task that runs here). */
  add(child: string, parent: string): void {
    let children = this.#children.get(parent);
    if (!children) this.#children.set(parent, (children = new Set()));
    children.add(child);
    this.#parentOf.set(child, parent);
  }

  /** The children of `id` that have not finished. */
  childrenOf(id: string): string[] {
    return [...(this.#children.get(id) ?? [])];
  }

  /** `id` finished (or was freed): it is no one's child any more, and its children are no one's. */
  finished(id: string): void {
    const parent = this.#parentOf.get(id);
    this.#parentOf.delete(id);
    if (parent !== undefined) {
      const siblings = this.#children.get(parent);
      siblings?.delete(id);
      if (siblings?.size === 0) this.#children.delete(parent);
    }
    for (const child of this.#children.get(id) ?? []) this.#parentOf.delete(child);
    this.#children.delete(id);
  }
}
