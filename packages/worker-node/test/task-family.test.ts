import { describe, expect, it } from 'vitest';
import { TaskFamily } from '../src/task-family.ts';

describe('the task family', () => {
  it('knows the unfinished children of a task, and forgets them as they finish', () => {
    const family = new TaskFamily();
    family.add('c-1', 'p');
    family.add('c-2', 'p');
    family.add('g-1', 'c-1');
    expect(family.childrenOf('p')).toEqual(['c-1', 'c-2']);
    family.finished('c-2');
    expect(family.childrenOf('p')).toEqual(['c-1']);
    family.finished('p');
    expect(family.childrenOf('p')).toEqual([]);
    expect(family.childrenOf('c-1')).toEqual(['g-1']);
  });

  it('remembers tasks cancelled recursively, the newest of them', () => {
    const family = new TaskFamily(2);
    family.cancelledRecursively('a');
    family.cancelledRecursively('b');
    expect(family.isCancelled('a')).toBe(true);
    family.cancelledRecursively('c');
    expect([family.isCancelled('a'), family.isCancelled('b'), family.isCancelled('c'), family.isCancelled('d')]).toEqual([false, true, true, false]);
  });
});
