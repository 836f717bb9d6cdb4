#!/usr/bin/env node
// The `weft` command, plain JavaScript because nothing loads TypeScript yet: it registers tsx
// (ESM and CommonJS, as the workers do in @weft/worker-node's worker-entry.mjs) and then runs the
// TypeScript CLI. Worker threads of a node started here register tsx themselves.
import { register as registerEsm } from 'tsx/esm/api';
import { register as registerCjs } from 'tsx/cjs/api';

registerCjs();
registerEsm();
const { main } = await import('../src/main.ts');
await main(process.argv);
