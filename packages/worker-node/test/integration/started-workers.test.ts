/**
 * Worker threads started before their node (startWorkerThread, as the embedded driver does), on a
 * real node with a real head in this process: the node takes them as its first workers, what a
 * worker said before the node listened is not lost, the rest of its workers follow, and a thread
 * that ended before the node took it fails the node's start with its exit, leaving no thread.
 */
import os from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { Head } from '@weft/scheduler/head';
import { WeftNode } from '@weft/worker-node';
import { startWorkerThread, type StartedThread } from '@weft/worker-node/threads';

const NODE_ID = 'node-startedwork1';
const JOB_ID = 'job-startedwork01';
const workingDir = os.tmpdir();

let node: WeftNode | undefined;

afterEach(async () => {
  await node?.stop();
  node = undefined;
});

function started(): StartedThread {
  return startWorkerThread({ nodeId: NODE_ID, jobId: JOB_ID, localJobId: JOB_ID, workingDir, preload: [] });
}

function nodeWith(startedWorkers: StartedThread[], numCpus: number): WeftNode {
  return new WeftNode({ numCpus, resources: {}, head: new Head({ recordTasks: false }).connectLocal(), workingDir, jobId: JOB_ID, nodeId: NODE_ID,
    startedWorkers, recordTasks: false });
}

async function until(check: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('worker threads started before their node', () => {
  it('are its first workers, ready although they said so before it listened; the others follow', async () => {
    const early = [started()];
    // Long enough for the thread to be up and to have sent worker-ready to no one.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    node = nodeWith(early, 2);
    await node.start();
    const first = node.pool.workers.get(early[0]!.id);
    expect(first?.state).toBe('ready');
    // The second worker starts with it, or once the first is ready (workersAtOnce).
    await until(() => [...node!.pool.workers.values()].filter((worker) => worker.state === 'ready').length === 2, 'both workers ready');
  }, 30_000);

  it('fail its start with their exit when they ended before it took them, and leave no thread running', async () => {
    const gone = started();
    await gone.thread.terminate();
    expect(gone.exitCode).toBeTypeOf('number');
    node = nodeWith([gone], 1);
    await expect(node.start()).rejects.toThrow(new RegExp(`worker ${gone.id} exited \\(code ${String(gone.exitCode)}\\) while starting`));
    await node.stop();
    expect(node.pool.workers.size).toBe(0);
  }, 30_000);
});
