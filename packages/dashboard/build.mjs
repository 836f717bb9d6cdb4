// Bundles the app into @weft/scheduler's dist/dashboard-app/ (index.html, assets/app.js and
// assets/app.css: uPlot's stylesheet with ours), which the head serves and which ships in the
// scheduler's package; this package itself is private and never installed. esbuild, because it bundles TypeScript and JSX in one fast step with no plugin, and
// is already what tsx runs on. Everything the page needs is in these files: nothing is fetched
// from elsewhere at run time.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const here = path.dirname(fileURLToPath(import.meta.url));
const dist = path.join(here, '../scheduler/dist/dashboard-app');
rmSync(dist, { recursive: true, force: true });
mkdirSync(path.join(dist, 'assets'), { recursive: true });
await build({
  entryPoints: { app: path.join(here, 'src/main.tsx') },
  outdir: path.join(dist, 'assets'),
  bundle: true,
  format: 'esm',
  target: 'es2022',
  minify: true,
  sourcemap: true,
  jsx: 'automatic',
  jsxImportSource: 'preact',
  logLevel: 'warning',
  legalComments: 'linked',
});
writeFileSync(path.join(dist, 'index.html'), `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>weft</title><link rel="stylesheet" href="/assets/app.css"></head>
<body><div id="app"></div><script type="module" src="/assets/app.js"></script></body></html>
`);
