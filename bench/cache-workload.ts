/**
 * W11 (BENCHMARKS.md): a `Memory` cache hit of a 10 MB Float64Array result, in µs per hit,
 * including the `get` of the value: `.remote()` reads and checks the entry (one read into one
 * buffer, crc32, a decode to be sure) and puts its bytes; `get` returns the array as a view of
 * them. Beside it, `floor.W11_read_us`: reading the same file with readFileSync and nothing
 * else, the least a hit from disk (the page cache, here) can cost.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { Memory, get } from "@weft/core";
import { ramp } from "./cache-tasks.ts";
import { W11_BYTES, W11_HITS, type RunContext } from "./config.ts";
import { median, now } from "./stats.ts";

/** Hits before the clock: the entry is in the page cache and the hit path compiled. */
const WARMUP_HITS = 5;

export async function w11(ctx: RunContext): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), "weft-bench-w11-"));
  try {
    const memory = new Memory(dir);
    const cached = memory.cache(ramp);
    const n = W11_BYTES / 8;
    const first = await get(cached.remote(n));
    if (first.length !== n) throw new Error(`W11 miss: expected ${n} elements, got ${first.length}`);
    await memory.flush();
    const file = readdirSync(dir, { recursive: true, encoding: "utf8" }).find((name) => name.endsWith(".weft"));
    if (!file) throw new Error("W11: the miss wrote no cache entry");
    for (let i = 0; i < WARMUP_HITS; i++) await get(cached.remote(n));

    const hits: number[] = [];
    for (let i = 0; i < W11_HITS; i++) {
      const t0 = now();
      const xs = await get(cached.remote(n));
      hits.push((now() - t0) * 1000);
      // Checked off the clock: the value is the task's, whole (its last element is n - 1).
      if (xs.length !== n || xs[n - 1] !== n - 1) throw new Error(`W11 hit: expected ${n} elements ending in ${n - 1}, got ${xs.length} ending in ${xs[n - 1]}`);
    }
    ctx.log.add("W11.us", median(hits));

    const reads: number[] = [];
    for (let i = 0; i < W11_HITS; i++) {
      const t0 = now();
      readFileSync(path.join(dir, file));
      reads.push((now() - t0) * 1000);
    }
    ctx.log.add("floor.W11_read_us", median(reads));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
