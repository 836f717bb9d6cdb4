/** One task: what it ran, where, when, what it took (with the sizes the object list knows), its error and its log lines. */
import type { ObjectListing, TaskEvent } from '@weft/protocol';
import { useEffect, useState } from 'preact/hooks';
import { taskLogs } from '../api.ts';
import { bytes, clock, duration } from '../format.ts';

export function TaskDetails({ task, objects, onClose }: { task: TaskEvent; objects: ObjectListing[]; onClose: () => void }) {
  const [logs, setLogs] = useState<string[] | undefined | 'loading'>('loading');
  useEffect(() => {
    setLogs('loading');
    taskLogs(task.taskId).then(setLogs, () => setLogs(undefined));
  }, [task.taskId]);
  const sizeOf = (id: string): string => {
    const copy = objects.find((object) => object.objectId === id);
    return copy === undefined ? 'size not known (freed, or not listed)' : bytes(copy.size);
  };
  const ran = task.startedAt !== undefined ? (task.finishedAt ?? Date.now()) - task.startedAt : undefined;
  return (
    <aside id="task-details" class="details">
      <button class="close" onClick={onClose} title="close">×</button>
      <h3>{task.name}</h3>
      <dl>
        <dt>task</dt><dd class="mono">{task.taskId}</dd>
        <dt>state</dt><dd class={`state-text state-${task.state}`}>{task.state}</dd>
        <dt>function</dt><dd class="mono">{task.name}</dd>
        <dt>job</dt><dd class="mono">{task.jobId ?? '—'}</dd>
        <dt>node</dt><dd class="mono">{task.nodeId}</dd>
        <dt>worker</dt><dd class="mono">{task.workerId ?? '—'}</dd>
        <dt>submitted</dt><dd>{clock(task.submittedAt)}</dd>
        <dt>started</dt><dd>{clock(task.startedAt)}</dd>
        <dt>finished</dt><dd>{clock(task.finishedAt)}</dd>
        <dt>ran for</dt><dd>{duration(ran)}</dd>
        {task.error !== undefined && <><dt>error</dt><dd class="error-text">{task.error}{task.errorMessage !== undefined ? `: ${task.errorMessage}` : ''}</dd></>}
      </dl>
      <h4>Arguments</h4>
      {task.argBytes !== undefined && <p id="task-arg-bytes">by value: {bytes(task.argBytes)} (encoded)</p>}
      {(task.deps ?? []).length === 0 ? <p class="empty">none passed by ref</p> : (
        <ul class="deps">{(task.deps ?? []).map((id) => <li><span class="mono">{id}</span> — {sizeOf(id)}</li>)}</ul>
      )}
      <h4>Log lines</h4>
      {logs === 'loading' ? <p class="empty">loading…</p> : logs === undefined || logs.length === 0 ? <p class="empty" id="task-logs">no log lines</p> : (
        <pre id="task-logs">{logs.join('\n')}</pre>
      )}
    </aside>
  );
}
