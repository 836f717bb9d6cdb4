/**
 * Resource arithmetic on `{ CPU: 2, gpu: 1 }` maps, and how messages name them: core's (own
 * properties only, so a resource named `constructor` never matches through the prototype).
 */
export { describeResources, fits, give, take } from '@weft/protocol';
