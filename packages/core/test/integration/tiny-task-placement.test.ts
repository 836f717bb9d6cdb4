import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cancel, get, init, shutdown } from '@weft/core';
import { sleepThenReturn } from '../fixtures/slow-task.ts';
import { touch } from '../fixtures/tiny-task.ts';
import { started } from '../support/markers.ts';

let tmp: string;
let markers = 0;
const markerFile = (): string => path.join(tmp, `started-${++markers}`);

beforeAll(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'weft-tiny-'));
  await init({ numCpus: 2 });
});
afterAll(async () => {
  await shutdown();
  rmSync(tmp, { recursive: true, force: true });
});

describe('tiny tasks submitted while every worker is busy', () => {
  it('run on the first worker that frees up instead of waiting behind a long task', async () => {
    // Many fast runs make `touch` tiny in the node's eyes, so it may be sent ahead to busy workers.
    await get(Array.from({ length: 200 }, (_, i) => touch.remote(i)));
    const [longMarker, shortMarker] = [markerFile(), markerFile()];
    const long = sleepThenReturn.remote(5000, 'long', longMarker);
    const short = sleepThenReturn.remote(100, 'short', shortMarker);
    await Promise.all([started(longMarker), started(shortMarker)]);
    const tiny = Array.from({ length: 10 }, (_, i) => touch.remote(i));
    try {
      // The short task frees its worker after 100 ms: all ten take well under a second from then.
      expect(await get(tiny, { timeoutMs: 1500 })).toEqual(Array.from({ length: 10 }, (_, i) => i));
      expect(await get(short)).toBe('short');
    } finally {
      await cancel(long);
    }
  });
});
