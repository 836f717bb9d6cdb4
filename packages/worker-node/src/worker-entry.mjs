// Worker bootstrap, plain JavaScript because no TypeScript loader runs yet in a new
// worker_thread: on Node 20 a worker does not inherit a loader given to the parent with
// --import, so it registers tsx itself (ESM and CommonJS), then loads the TypeScript worker.
import { register as registerEsm } from 'tsx/esm/api';
import { register as registerCjs } from 'tsx/cjs/api';

registerCjs();
registerEsm();
await import('./worker-main.ts');
