/** The live task graph of a job: tasks coloured by state, an arrow from each task to those that took its result. */
import type { TaskEvent } from '@weft/protocol';
import { useMemo } from 'preact/hooks';
import { STATE_COLOURS, shortId } from '../format.ts';
import { NODE_HEIGHT, NODE_WIDTH, layoutGraph } from '../graph-model.ts';

export function TaskGraph({ tasks, selected, onSelect }: { tasks: TaskEvent[]; selected: string | undefined; onSelect: (id: string) => void }) {
  // Layout depends on which tasks and edges there are, not on their states: a state change recolours only.
  const shape = tasks.map((task) => `${task.taskId}<${(task.deps ?? []).join(',')}`).join(';');
  const layout = useMemo(() => layoutGraph(tasks), [shape]);
  const byId = new Map(tasks.map((task) => [task.taskId, task]));
  if (tasks.length === 0) return <p class="empty">no tasks in this job yet</p>;
  return (
    <div class="graph-box">
      {layout.hidden > 0 && <p class="note">showing the last {layout.nodes.length} tasks; {layout.hidden} earlier ones are left out</p>}
      <Legend />
      <svg id="task-graph" width={layout.width} height={layout.height} viewBox={`0 0 ${layout.width} ${layout.height}`}>
        <defs>
          <marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
            <path d="M 0 0 L 10 5 L 0 10 z" fill="#888" />
          </marker>
        </defs>
        {layout.edges.map((edge) => (
          <path class="task-edge" data-from={edge.from} data-to={edge.to} marker-end="url(#arrow)"
            d={edge.points.map((p, i) => `${i === 0 ? 'M' : 'L'} ${p.x} ${p.y}`).join(' ')} />
        ))}
        {layout.nodes.map(({ task: laidOut, x, y }) => {
          const task = byId.get(laidOut.taskId) ?? laidOut;
          return (
            <g class={`task-node state-${task.state}${selected === task.taskId ? ' selected' : ''}`} data-task-id={task.taskId}
              transform={`translate(${x - NODE_WIDTH / 2} ${y - NODE_HEIGHT / 2})`} onClick={() => onSelect(task.taskId)}>
              <title>{`${task.name} ${task.taskId} (${task.state})`}</title>
              <rect width={NODE_WIDTH} height={NODE_HEIGHT} rx="6" fill={STATE_COLOURS[task.state]} />
              <text x="8" y="14">{task.name.length > 16 ? `${task.name.slice(0, 15)}…` : task.name}</text>
              <text x="8" y="28" class="sub">{shortId(task.taskId)}</text>
            </g>
          );
        })}
      </svg>
    </div>
  );
}

export function Legend() {
  return (
    <div class="legend">
      {Object.entries(STATE_COLOURS).map(([state, colour]) => <span><i style={{ background: colour }} />{state}</span>)}
    </div>
  );
}
