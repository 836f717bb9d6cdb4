import { describe, expect, it } from 'vitest';
import { GlobalScheduler } from '../src/global-scheduler.ts';
import { NodeRegistry } from '../src/node-registry.ts';

describe('the global scheduler', () => {
  it('places nothing asking for a resource named like a property of Object on a node without it', () => {
    const nodes = new NodeRegistry();
    nodes.register({ nodeId: 'node-a', address: '', resources: { CPU: 4 } });
    const scheduler = new GlobalScheduler(nodes);
    expect(scheduler.place({ constructor: 1 })).toBeNull();
    expect(scheduler.place({ CPU: 1 })).toBe('node-a');
    expect(Object.getPrototypeOf(nodes.get('node-a')!.available)).toBe(Object.prototype);
    expect(nodes.totals()).toEqual({ CPU: 4 });
  });

  it('sums a resource named constructor as a number', () => {
    const nodes = new NodeRegistry();
    nodes.register({ nodeId: 'node-a', address: '', resources: { CPU: 1, constructor: 1 } });
    nodes.register({ nodeId: 'node-b', address: '', resources: { CPU: 1, constructor: 2 } });
    expect(nodes.totals()).toEqual({ CPU: 2, constructor: 3 });
    expect(new GlobalScheduler(nodes).place({ constructor: 2 })).toBe('node-b');
  });
});
