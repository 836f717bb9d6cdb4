/**
 * The head's dashboard in a real headless browser (Debian's chromium, driven by playwright-core):
 * a cluster started through the CLI runs a DAG of tasks passing refs, a map and an actor; the
 * page signs in (refusing a wrong token), shows the task graph with its edges, the task stream's
 * bars, a task's details, the actors and objects, and takes a task submitted while it is open
 * from the live feed. Screenshots of each view go to test/output/dashboard/. Skipped, saying
 * so, only when no chromium is installed.
 */
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { cancel, get, init, shutdown, type ObjectRef } from '@weft/core';
import { Tally, combine, explode, load, nap, square } from '../fixtures/dashboard-tasks.ts';
import { CliCluster } from '../support/cli-cluster.ts';

const FIXTURES = fileURLToPath(new URL('../fixtures', import.meta.url));
const OUTPUT = fileURLToPath(new URL('../output/dashboard', import.meta.url));
const CHROMIUM = [process.env.WEFT_CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => p !== undefined && existsSync(p));
if (CHROMIUM === undefined) console.warn('dashboard.test: skipped: no chromium found (apt-get install -y chromium, or set WEFT_CHROMIUM)');

describe.skipIf(CHROMIUM === undefined)('the dashboard in a headless browser', () => {
  const cluster = new CliCluster();
  let browser: Browser;
  let page: Page;
  let http = '';
  /** The DAG: a and b loaded, c = combine(a, b), d = combine(c, a). */
  let dag: Record<'a' | 'b', ObjectRef<Float64Array>> & Record<'c' | 'd', ObjectRef<number>>;
  /** A task that fails, and one still running while the graph is looked at. */
  let failed: ObjectRef<number>;
  let running: ObjectRef<number>;

  beforeAll(async () => {
    mkdirSync(OUTPUT, { recursive: true });
    await cluster.startHead('--num-cpus', '2');
    http = cluster.url.replace(/^ws/, 'http');
    await init({ address: cluster.url, token: cluster.token, workingDir: FIXTURES });
    const a = load.remote(1000);
    const b = load.remote(2000);
    const c = combine.remote(a, b);
    const d = combine.remote(c, a);
    dag = { a, b, c, d };
    expect(await get(d)).toBe(2 * 499_500 + 1_999_000);
    expect(await square.map(Array.from({ length: 16 }, (_, i) => i), { chunkSize: 1 })).toHaveLength(16);
    const tally = Tally.remote();
    for (const x of [1, 2, 3]) await get(tally.add.remote(x));
    failed = explode.remote(dag.c);
    await expect(get(failed)).rejects.toThrow(/cannot use/);
    running = nap.remote(20_000, dag.d);
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu'] });
    page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await cancel(running).catch(() => {});
    await shutdown();
    expect(await cluster.stop()).toEqual([]);
  }, 60_000);

  const shot = (name: string): Promise<Buffer> => page.screenshot({ path: path.join(OUTPUT, `${name}.png`), fullPage: true });
  const view = async (name: string): Promise<void> => {
    await page.click(`#nav-${name}`);
    await page.waitForSelector(`#view-${name}`);
  };

  it('refuses a wrong token with a clear message, then signs in with the right one', async () => {
    await page.goto(`${http}/`);
    await page.fill('#token', 'not-the-token');
    await page.click('#sign-in button[type=submit]');
    await expect.poll(() => page.textContent('#sign-in .error')).toMatch(/wrong token/);
    await shot('sign-in-refused');
    await page.fill('#token', cluster.token);
    await page.click('#sign-in button[type=submit]');
    await page.waitForSelector('#view-overview');
    const cookies = await page.context().cookies();
    expect(cookies.find((cookie) => cookie.name === 'weft_session')).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/' });
  });

  it('signs in from the printed link and drops the token from the address', async () => {
    const other = await browser.newPage();
    await other.goto(`${http}/#token=${cluster.token}`);
    await other.waitForSelector('#view-overview');
    expect(other.url()).not.toContain(cluster.token);
    await other.close();
  });

  it('refuses the live feed and the API without a session or the token', async () => {
    const refused = await new Promise<string>((resolve) => {
      const ws = new WebSocket(`${cluster.url}/api/live`);
      ws.on('unexpected-response', (_req, res) => resolve(String(res.statusCode)));
      ws.on('open', () => { ws.close(); resolve('open'); });
      ws.on('error', () => resolve('error'));
    });
    expect(refused).toBe('401');
    expect((await fetch(`${http}/api/tasks`)).status).toBe(401);
    expect((await fetch(`${http}/api/tasks?token=${cluster.token}`)).status).toBe(401);
  });

  it('charts the nodes from the samples it keeps', async () => {
    await page.waitForSelector('#nodes-table tbody tr');
    await expect.poll(() => page.locator('.chart canvas').count()).toBeGreaterThanOrEqual(3);
    // A few samples, so that the charts draw lines.
    await page.waitForTimeout(2_500);
    await shot('overview');
  });

  it('lists the driver\'s job, and its map with a full bar', async () => {
    await view('jobs');
    await expect.poll(() => page.locator('#jobs-table tbody tr').count()).toBeGreaterThanOrEqual(1);
    const map = page.locator('#maps-table tbody tr', { hasText: 'square' });
    await expect.poll(() => map.count()).toBe(1);
    expect(await map.innerText()).toMatch(/16 \/ 16[\s\S]*finished/);
    expect(await map.locator('.map-bar > span').evaluate((bar) => (bar as { style: { width: string } }).style.width)).toBe('100%');
    await shot('jobs');
  });

  it('draws the task graph of the job with an edge from each task to those that took its result', async () => {
    await view('graph');
    // 4 DAG tasks and 16 map items (actor calls may be listed too).
    await expect.poll(() => page.locator('#task-graph .task-node').count()).toBeGreaterThanOrEqual(20);
    for (const [from, to] of [['a', 'c'], ['b', 'c'], ['c', 'd'], ['a', 'd']] as const) {
      expect(await page.locator(`#task-graph .task-edge[data-from="${dag[from].id}"][data-to="${dag[to].id}"]`).count()).toBe(1);
    }
    expect(await page.locator('#task-graph .task-edge').count()).toBeGreaterThanOrEqual(4);
    expect(await page.locator('#task-graph .task-node.state-finished').count()).toBeGreaterThanOrEqual(20);
    await page.waitForSelector(`#task-graph .task-node.state-failed[data-task-id="${failed.id}"]`);
    await page.waitForSelector(`#task-graph .task-node.state-running[data-task-id="${running.id}"]`);
    await shot('graph');
  });

  it('opens a task\'s details on click', async () => {
    await page.click(`#task-graph .task-node[data-task-id="${dag.d.id}"]`);
    const details = page.locator('#task-details');
    await details.waitFor();
    expect(await details.textContent()).toContain('combine');
    expect(await details.textContent()).toContain(dag.c.id);
    await expect.poll(() => details.textContent()).not.toContain('loading');
    expect(await page.textContent('#task-arg-bytes')).toMatch(/^by value: \d+(\.\d+)? (B|KB) \(encoded\)$/);
    // d = combine(c, a): what it printed, stdout and stderr.
    expect(await page.textContent('#task-logs')).toBe(`combining ${499_500 + 1_999_000} and 499500\n[stderr] a line on stderr`);
    await shot('task-details');
    await page.click(`#task-graph .task-node[data-task-id="${failed.id}"]`);
    await expect.poll(() => details.textContent()).toContain('explode');
    expect(await page.textContent('#task-details .error-text')).toMatch(/RangeError|cannot use/);
    await page.click('#task-details .close');
  });

  it('adds a task submitted while the page is open, from the live feed', async () => {
    const before = await page.locator('#task-graph .task-node').count();
    const e = combine.remote(dag.d, 1);
    await get(e);
    await page.waitForSelector(`#task-graph .task-node.state-finished[data-task-id="${e.id}"]`, { timeout: 15_000 });
    expect(await page.locator('#task-graph .task-node').count()).toBe(before + 1);
    expect(await page.locator(`#task-graph .task-edge[data-from="${dag.d.id}"][data-to="${e.id}"]`).count()).toBe(1);
  });

  it('draws a bar per task in the task stream', async () => {
    await view('stream');
    await expect.poll(() => page.locator('#task-stream .stream-bar').count()).toBeGreaterThanOrEqual(21);
    await shot('stream');
  });

  it('lists the actor and the objects', async () => {
    await view('actors');
    await expect.poll(() => page.textContent('#view-actors')).toMatch(/Tally[\s\S]*alive/);
    // Its three calls, no restart (columns: actor, class, name, state, restarts, calls, node).
    const cells = await page.locator('#actors-table tbody tr', { hasText: 'Tally' }).locator('td').allInnerTexts();
    expect(cells.slice(3, 6)).toEqual(['alive', '0', '3']);
    await shot('actors');
    await view('objects');
    await expect.poll(() => page.textContent('#view-objects')).toContain(dag.b.id);
    await shot('objects');
  });
});
