// Worker bootstrap. weft's own code is built JavaScript; tsx is registered (ESM and CommonJS) for
// the users' TypeScript modules this worker imports: on Node 20 a worker does not inherit a loader
// given to the parent with --import, so it registers one itself before loading the worker.
import { register as registerEsm } from 'tsx/esm/api';
import { register as registerCjs } from 'tsx/cjs/api';

registerCjs();
registerEsm();
await import('./worker-main.ts');
