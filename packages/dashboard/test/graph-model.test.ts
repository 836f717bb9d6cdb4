/** The dashboard's task graph: edges from the task that made a result to the tasks that took it, and its layout. */
import type { TaskEvent } from '@weft/protocol';
import { describe, expect, it } from 'vitest';
import { MAX_GRAPH_TASKS, edgesOf, layoutGraph, producerOf } from '../src/graph-model.ts';

const task = (taskId: string, deps?: string[]): TaskEvent => ({ taskId, name: 'f', state: 'finished', nodeId: 'node-1', submittedAt: 0, ...(deps ? { deps } : {}) });

describe('producerOf', () => {
  it.each([
    ['t1', 't1'],
    ['t1-3', 't1'],
    ['put-object', undefined],
    ['a-b-c', undefined],
  ])('finds the task that made %j: %j', (objectId, producer) => {
    expect(producerOf(objectId, new Set(['t1', 't2']))).toBe(producer);
  });
});

describe('edgesOf', () => {
  it('links each task to the tasks whose results it took, once per pair, leaving out objects no listed task made', () => {
    const tasks = [task('a'), task('b'), task('c', ['a', 'b', 'a']), task('d', ['c', 'a', 'put-1'])];
    expect(edgesOf(tasks)).toEqual([['a', 'c'], ['b', 'c'], ['c', 'd'], ['a', 'd']]);
  });
});

describe('layoutGraph', () => {
  it('places linked tasks in layers and lone ones in a grid below, every task once', () => {
    const tasks = [task('a'), task('b', ['a']), ...Array.from({ length: 20 }, (_, i) => task(`m${i}`))];
    const layout = layoutGraph(tasks);
    expect(layout.nodes.map((node) => node.task.taskId).sort()).toEqual(tasks.map((t) => t.taskId).sort());
    const y = (id: string): number => layout.nodes.find((node) => node.task.taskId === id)?.y ?? NaN;
    expect(y('b')).toBeGreaterThan(y('a'));
    expect(y('m0')).toBeGreaterThan(y('b'));
    expect(y('m19')).toBeGreaterThan(y('m0'));
    expect(layout.edges).toHaveLength(1);
    expect(layout.hidden).toBe(0);
  });

  it('draws the last MAX_GRAPH_TASKS tasks and counts the others', () => {
    const layout = layoutGraph(Array.from({ length: MAX_GRAPH_TASKS + 5 }, (_, i) => task(`t${i}`)));
    expect(layout.nodes).toHaveLength(MAX_GRAPH_TASKS);
    expect(layout.hidden).toBe(5);
  });
});
