/** The jobs, actors and objects of the cluster, as tables. */
import type { LiveActor, LiveJob, MapStatus, ObjectListing, TaskEvent } from '@weft/protocol';
import { bytes, clock, shortId } from '../format.ts';
import { producerOf } from '../graph-model.ts';
import { Table } from './table.tsx';

const countBy = <T,>(items: T[], key: (item: T) => string): Map<string, number> => {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(key(item), (counts.get(key(item)) ?? 0) + 1);
  return counts;
};

/** Parallel maps with a bar each: running ones first, then those that ended. */
export function Maps({ maps }: { maps: MapStatus[] }) {
  const rows = maps.map((map) => {
    const share = map.total ? Math.min(1, map.done / map.total) : undefined;
    const seconds = Math.max(0.001, (map.updatedAt - map.startedAt) / 1000);
    return [
      map.name,
      <span class="map-bar" data-state={map.state} title={share === undefined ? '' : `${Math.round(share * 100)}%`}>
        <span style={{ width: `${share === undefined ? 100 : share * 100}%` }} />
      </span>,
      `${map.done}${map.total === undefined ? '' : ` / ${map.total}`}${map.failed > 0 ? `, ${map.failed} failed` : ''}`,
      `${Math.round(map.done / seconds)} items/s`, map.state, <span class="mono">{shortId(map.jobId)}</span>,
    ];
  });
  return <Table id="maps-table" head={['map', 'progress', 'items', 'rate', 'state', 'job']} rows={rows} empty="no map yet" />;
}

export function Jobs({ jobs, tasks, maps, onOpen }: { jobs: LiveJob[]; tasks: TaskEvent[]; maps: MapStatus[]; onOpen: (jobId: string) => void }) {
  const byJob = new Map<string, TaskEvent[]>();
  for (const task of tasks) if (task.jobId !== undefined) byJob.set(task.jobId, [...(byJob.get(task.jobId) ?? []), task]);
  const rows = [...jobs].sort((a, b) => b.since - a.since).map((job) => {
    const states = countBy(byJob.get(job.jobId) ?? [], (task) => task.state);
    const summary = [...states].map(([state, n]) => `${n} ${state}`).join(', ') || 'none listed';
    return [
      <a href="#/graph" class="mono" onClick={() => onOpen(job.jobId)}>{job.jobId}</a>, job.state, shortId(job.nodeId), clock(job.since), summary,
    ];
  });
  return (
    <section id="view-jobs">
      <h2>Jobs</h2>
      <Table id="jobs-table" head={['job', 'state', 'driver\'s node', 'since', 'tasks']} rows={rows} empty="no job yet" />
      <h2>Maps</h2>
      <Maps maps={maps} />
    </section>
  );
}

export function Actors({ actors }: { actors: LiveActor[] }) {
  const rows = actors.map((actor) => [
    <span class="mono">{actor.actorId}</span>, actor.className, actor.name ?? '—', <span class={`actor-${actor.state}`}>{actor.state}</span>,
    actor.restarts ?? '—', actor.calls ?? '—', shortId(actor.nodeId),
  ]);
  return (
    <section id="view-actors">
      <h2>Actors</h2>
      <Table id="actors-table" head={['actor', 'class', 'name', 'state', 'restarts', 'calls', 'node']} rows={rows} empty="no actor" />
    </section>
  );
}

export function Objects({ objects, tasks }: { objects: ObjectListing[]; tasks: Map<string, TaskEvent> }) {
  const ids = new Set(tasks.keys());
  const madeBy = (id: string): string => {
    const producer = producerOf(id, ids);
    return producer === undefined ? 'put, or a task not listed' : (tasks.get(producer)?.name ?? '—');
  };
  const total = objects.reduce((n, object) => n + object.size, 0);
  const rows = [...objects].sort((a, b) => b.size - a.size).map((object) => [
    <span class="mono">{object.objectId}</span>, madeBy(object.objectId), bytes(object.size), object.status ?? '—', shortId(object.nodeId),
    object.owner === undefined ? 'this node' : shortId(object.owner), object.holders, object.heldBy.map(shortId).join(', ') || '—', object.pins,
  ]);
  return (
    <section id="view-objects">
      <h2>Objects</h2>
      <p class="note">{objects.length} copies, {bytes(total)} in all</p>
      <Table id="objects-table" head={['object', 'made by', 'size', 'status', 'where', 'owner', 'refs', 'held by', 'pins']} rows={rows} empty="no object in any store" />
    </section>
  );
}
