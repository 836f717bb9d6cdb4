/**
 * The head's /metrics text, from a real Head driven through in-process connections that stand for
 * nodes: their heartbeats' stats and task events become the figures, parsed back from the text.
 */
import { describe, expect, it, vi } from 'vitest';
import { inProcessPair, type HeadToNode, type NodeStats, type NodeToHead, type TaskEvent } from '@weft/protocol';
import { Head, JOB_SWEEP_DELAY_MS } from '../src/head.ts';
import { HeadMetrics } from '../src/metrics.ts';
import { parsePrometheus } from './support/prometheus.ts';

const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function node(head: Head, nodeId: string): (message: NodeToHead) => void {
  const [nodeEnd, headEnd] = inProcessPair<HeadToNode, NodeToHead>();
  head.attach(headEnd);
  nodeEnd.send({ type: 'register-node', node: { nodeId, address: '', resources: { CPU: 2 } } });
  return (message) => nodeEnd.send(message);
}

const stats = (more: Partial<NodeStats>): NodeStats => ({ objects: 0, objectBytes: 0, workers: 2, actors: 0, queued: 0, running: 0, ...more });
const task = (taskId: string, state: TaskEvent['state'], runMs?: number): TaskEvent => ({
  taskId, jobId: 'job-1', name: 'square', state, nodeId: 'node-a', submittedAt: 1_000,
  ...(runMs !== undefined ? { startedAt: 1_000, finishedAt: 1_000 + runMs } : {}),
});

describe('HeadMetrics', () => {
  it('reports nodes, stores, transfers and tasks from heartbeats and the task table', async () => {
    const head = new Head();
    const metrics = new HeadMetrics(head);
    const a = node(head, 'node-a');
    const b = node(head, 'node-b');
    a({ type: 'heartbeat', available: { CPU: 1 }, stats: stats({ objects: 3, objectBytes: 300, spilledObjects: 1, spilledBytes: 50, bytesPulled: 10, bytesPushed: 0 }) });
    b({ type: 'heartbeat', available: { CPU: 2 }, stats: stats({ bytesPushed: 10, bytesPulled: 5 }) });
    a({ type: 'task-events', events: [task('t1', 'finished', 3), task('t2', 'failed', 2_000), task('t3', 'running'), task('t4', 'waiting')], dropped: 2 });
    await flush();
    const samples = parsePrometheus(await metrics.text());
    expect(Object.fromEntries([...samples].filter(([name]) => !name.startsWith('weft_task_duration_seconds_bucket')))).toEqual({
      weft_nodes_alive: 2, 'weft_nodes{state="alive"}': 2, 'weft_nodes{state="dead"}': 0,
      'weft_node_up{node="node-a"}': 1, 'weft_node_up{node="node-b"}': 1,
      'weft_resources_total{resource="CPU"}': 4, 'weft_resources_available{resource="CPU"}': 3,
      'weft_tasks{state="waiting"}': 1, 'weft_tasks{state="queued"}': 0, 'weft_tasks{state="running"}': 1,
      'weft_tasks{state="finished"}': 1, 'weft_tasks{state="failed"}': 1,
      weft_tasks_running: 0, weft_tasks_queued: 0, weft_task_events_dropped_total: 2,
      weft_actors_alive: 0, 'weft_actors{state="pending"}': 0, 'weft_actors{state="alive"}': 0, 'weft_actors{state="restarting"}': 0, 'weft_actors{state="dead"}': 0,
      weft_objects: 3, weft_object_bytes: 300,
      'weft_node_objects{node="node-a"}': 3, 'weft_node_objects{node="node-b"}': 0,
      'weft_node_object_bytes{node="node-a"}': 300, 'weft_node_object_bytes{node="node-b"}': 0,
      'weft_node_spilled_objects{node="node-a"}': 1, 'weft_node_spilled_objects{node="node-b"}': 0,
      'weft_node_spilled_bytes{node="node-a"}': 50, 'weft_node_spilled_bytes{node="node-b"}': 0,
      'weft_node_bytes_pulled_total{node="node-a"}': 10, 'weft_node_bytes_pulled_total{node="node-b"}': 5,
      'weft_node_bytes_pushed_total{node="node-a"}': 0, 'weft_node_bytes_pushed_total{node="node-b"}': 10,
      weft_bytes_moved_total: 15,
      'weft_task_duration_seconds_sum{state="finished"}': 0.003, 'weft_task_duration_seconds_count{state="finished"}': 1,
      'weft_task_duration_seconds_sum{state="failed"}': 2, 'weft_task_duration_seconds_count{state="failed"}': 1,
    });
    expect(samples.get('weft_task_duration_seconds_bucket{le="0.005",state="finished"}')).toBe(1);
    expect(samples.get('weft_task_duration_seconds_bucket{le="1",state="failed"}')).toBe(0);
    expect(samples.get('weft_task_duration_seconds_bucket{le="5",state="failed"}')).toBe(1);
    metrics.close();
  });

  it('counts a task\'s duration once, however many reports of its end arrive, and none after close', async () => {
    const head = new Head();
    const metrics = new HeadMetrics(head);
    const a = node(head, 'node-a');
    a({ type: 'task-events', events: [task('t1', 'finished', 5)] });
    a({ type: 'task-events', events: [task('t1', 'finished', 5)] });
    await flush();
    expect(parsePrometheus(await metrics.text()).get('weft_task_duration_seconds_count{state="finished"}')).toBe(1);
    metrics.close();
    a({ type: 'task-events', events: [task('t2', 'finished', 5)] });
    await flush();
    expect(parsePrometheus(await metrics.text()).get('weft_task_duration_seconds_count{state="finished"}')).toBe(1);
    expect(parsePrometheus(await metrics.text()).get('weft_tasks{state="finished"}')).toBe(2);
  });

  it("counts a task that finished just as its job ended as finished, not cancelled (the nodes' last events come first)", async () => {
    vi.useFakeTimers({ toFake: ['setTimeout'] });
    try {
      const head = new Head();
      const metrics = new HeadMetrics(head);
      const a = node(head, 'node-a');
      a({ type: 'task-events', events: [task('t1', 'running')] });
      await flush();
      // The driver left: its node says so at once; the node that ran t1 reports it with its next heartbeat.
      a({ type: 'job-event', jobId: 'job-1', state: 'finished', nodeId: 'node-a' });
      await flush();
      a({ type: 'task-events', events: [task('t1', 'finished', 5)] });
      await flush();
      vi.advanceTimersByTime(JOB_SWEEP_DELAY_MS);
      const samples = parsePrometheus(await metrics.text());
      expect(samples.get('weft_task_duration_seconds_count{state="finished"}')).toBe(1);
      expect(samples.get('weft_task_duration_seconds_count{state="failed"}') ?? 0).toBe(0);
      expect(head.tasks.get('t1')?.state).toBe('finished');
    } finally {
      vi.useRealTimers();
    }
  });
});

