import { describe, expect, it } from 'vitest';
import { TaskQueue } from '../src/task-queue.ts';
import { fits, give, take } from '../src/resources.ts';

describe('task queue', () => {
  it('is first in, first out across compactions', () => {
    const queue = new TaskQueue<number>();
    for (let i = 0; i < 5000; i++) queue.push(i);
    for (let i = 0; i < 3000; i++) expect(queue.shift()).toBe(i);
    queue.push(5000);
    expect(queue.length).toBe(2001);
    expect(queue.peek()).toBe(3000);
    expect(queue.shift()).toBe(3000);
    expect(queue.shift()).toBe(3001);
  });
});

describe('resources', () => {
  it('checks, takes and gives amounts by name', () => {
    const available = { CPU: 2, gpu: 1 };
    expect(fits({ CPU: 2 }, available)).toBe(true);
    expect(fits({ CPU: 1, gpu: 2 }, available)).toBe(false);
    expect(fits({ tpu: 1 }, available)).toBe(false);
    expect(fits({ tpu: 0 }, available)).toBe(true);
    take(available, { CPU: 1.5 });
    expect(fits({ CPU: 1 }, available)).toBe(false);
    give(available, { CPU: 1.5 });
    expect(available.CPU).toBe(2);
  });
});
