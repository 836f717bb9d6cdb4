/**
 * Resource arithmetic on `{ CPU: 2, gpu: 1 }` maps: core's (own properties only, so a resource
 * named `constructor` never matches through the prototype), and how the node's messages name them.
 */
import type { ResourceSet } from '@weft/core';

export { fits, give, take } from '@weft/core';

/** `{ CPU: 2, gpu: 1 }` as "2 CPU, 1 gpu" for messages. */
export function describeResources(resources: ResourceSet): string {
  const parts = Object.entries(resources).map(([name, amount]) => `${amount} ${name}`);
  return parts.length === 0 ? 'nothing' : parts.join(', ');
}
