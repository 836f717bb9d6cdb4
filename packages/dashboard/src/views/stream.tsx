/**
 * The task stream (Dask's): one row per worker, one bar per task from its start to its end (to
 * now while it runs), coloured by state, over the span of the tasks shown.
 */
import type { TaskEvent } from '@weft/protocol';
import { STATE_COLOURS, duration, shortId } from '../format.ts';
import { Legend } from './graph.tsx';

/** Tasks drawn at most: the most recently started. */
const MAX_BARS = 2_000;
const ROW_HEIGHT = 22;
const LABEL_WIDTH = 190;
const WIDTH = 1100;
/** Time marks along the axis, after 0. */
const TICKS = 5;

export function TaskStream({ tasks, now, onSelect }: { tasks: TaskEvent[]; now: number; onSelect: (id: string) => void }) {
  const started = tasks.filter((task) => task.startedAt !== undefined)
    .sort((a, b) => (a.startedAt as number) - (b.startedAt as number)).slice(-MAX_BARS);
  if (started.length === 0) return <p class="empty">no task has started yet</p>;
  const rowOf = (task: TaskEvent): string => `${task.nodeId} / ${task.workerId ?? 'worker'}`;
  const rows = [...new Set(started.map(rowOf))].sort();
  const begin = started[0]?.startedAt as number;
  const end = Math.max(...started.map((task) => task.finishedAt ?? now), begin + 1);
  const scale = (WIDTH - LABEL_WIDTH - 10) / (end - begin);
  const height = rows.length * ROW_HEIGHT + 24;
  return (
    <div class="stream-box">
      <Legend />
      <p class="note">{started.length} tasks over {duration(end - begin)} on {rows.length} workers</p>
      <svg id="task-stream" width={WIDTH} height={height}>
        {rows.map((row, i) => (
          <g class="stream-row">
            <rect x="0" y={i * ROW_HEIGHT} width={WIDTH} height={ROW_HEIGHT} fill={i % 2 === 0 ? '#f7f8fa' : '#fff'} />
            <text x="4" y={i * ROW_HEIGHT + 15} class="row-label">{`${shortId(row.split(' / ')[0] ?? '')} / ${shortId(row.split(' / ')[1] ?? '')}`}</text>
          </g>
        ))}
        {Array.from({ length: TICKS + 1 }, (_, i) => {
          const x = LABEL_WIDTH + (i / TICKS) * (end - begin) * scale;
          return (
            <g class="tick" pointer-events="none">
              <line x1={x} x2={x} y1="0" y2={height - 20} stroke="#e3e7ec" />
              <text x={x} y={height - 6} class="axis" text-anchor={i === 0 ? 'start' : i === TICKS ? 'end' : 'middle'}>
                {i === 0 ? '0' : duration((i / TICKS) * (end - begin))}
              </text>
            </g>
          );
        })}
        {started.map((task) => {
          const x = LABEL_WIDTH + ((task.startedAt as number) - begin) * scale;
          const w = Math.max(2, ((task.finishedAt ?? now) - (task.startedAt as number)) * scale);
          return (
            <rect class={`stream-bar state-${task.state}`} data-task-id={task.taskId} x={x} y={rows.indexOf(rowOf(task)) * ROW_HEIGHT + 3}
              width={w} height={ROW_HEIGHT - 6} rx="2" fill={STATE_COLOURS[task.state]} onClick={() => onSelect(task.taskId)}>
              <title>{`${task.name} ${task.taskId}: ${duration((task.finishedAt ?? now) - (task.startedAt as number))}`}</title>
            </rect>
          );
        })}
      </svg>
    </div>
  );
}
