#!/usr/bin/env node
// The `weft` command: the built CLI (run `pnpm build` in a checkout). Users' TypeScript is loaded
// where it runs: in the workers of a node started here, which register tsx themselves.
const { main } = await import('../dist/main.js');
await main(process.argv);
