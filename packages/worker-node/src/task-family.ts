/**
 * Which tasks submitted which, on this node: a task run here that submits tasks is their parent
 * (TaskSpec.parentTaskId), and a recursive cancel of it cancels them, and theirs (Ray's
 * `cancel(ref, recursive=True)`). A child is forgotten when it finishes; a parent that finishes
 * leaves its children running, unrelated.
 */
export class TaskFamily {
  readonly #children = new Map<string, Set<string>>();
  readonly #parentOf = new Map<string, string>();

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
