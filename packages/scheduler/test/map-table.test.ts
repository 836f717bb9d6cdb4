/** The head's table of parallel maps, as drivers and tasks report them. */
import { describe, expect, it } from 'vitest';
import type { MapStatus } from '@weft/protocol';
import { MAX_ENDED_MAPS, MapTable } from '../src/map-table.ts';

const status = (mapId: string, fields: Partial<MapStatus> = {}): MapStatus => ({
  mapId, jobId: 'job-1', name: 'square', done: 0, failed: 0, total: 10, startedAt: 1, updatedAt: 1, state: 'running', ...fields,
});

describe('the map table', () => {
  it("keeps each map's latest report, ignoring one that arrives late", () => {
    const maps = new MapTable();
    maps.update(status('map-a', { done: 2, updatedAt: 10 }));
    maps.update(status('map-a', { done: 5, updatedAt: 20 }));
    maps.update(status('map-a', { done: 3, updatedAt: 15 }));
    expect(maps.list()).toEqual([status('map-a', { done: 5, updatedAt: 20 })]);
  });

  it('lists running maps first, then ended ones newest first, and never revives an ended map', () => {
    const maps = new MapTable();
    maps.update(status('map-a'));
    maps.update(status('map-b'));
    maps.update(status('map-c'));
    maps.update(status('map-a', { state: 'finished', done: 10, updatedAt: 5 }));
    maps.update(status('map-c', { state: 'failed', failed: 1, updatedAt: 5 }));
    maps.update(status('map-a', { state: 'running', done: 4, updatedAt: 9 }));
    expect(maps.list().map((m) => [m.mapId, m.state])).toEqual([['map-b', 'running'], ['map-c', 'failed'], ['map-a', 'finished']]);
  });

  it("ends a job's maps that never reported an end when the job finishes, and filters by job", () => {
    const maps = new MapTable();
    maps.update(status('map-a'));
    maps.update(status('map-b', { jobId: 'job-2' }));
    maps.jobFinished('job-1');
    expect(maps.list('job-1')).toEqual([status('map-a', { state: 'cancelled' })]);
    expect(maps.list('job-2').map((m) => m.state)).toEqual(['running']);
  });

  it(`remembers the last ${MAX_ENDED_MAPS} ended maps`, () => {
    const maps = new MapTable();
    for (let i = 0; i < MAX_ENDED_MAPS + 5; i++) maps.update(status(`map-${i}`, { state: 'finished' }));
    const kept = maps.list();
    expect(kept).toHaveLength(MAX_ENDED_MAPS);
    expect(kept[0]?.mapId).toBe(`map-${MAX_ENDED_MAPS + 4}`);
    expect(kept.some((m) => m.mapId === 'map-4')).toBe(false);
  });
});
