/**
 * The head's part in getting task output to drivers: a node sends the lines of jobs whose driver
 * is not attached to it, and the head passes each job's lines on to the node of its driver (the
 * job registry knows it). Lines of a job the head does not know running, or whose driver is on
 * the sending node itself, go nowhere (the driver left; the node keeps them for `weft logs`).
 */
import type { OutputChunk } from '@weft/protocol';
import type { JobRecord } from './job-registry.ts';

/** The chunks for each node of a driver, in the order they came. */
export function relayTargets(chunks: OutputChunk[], jobOf: (jobId: string) => JobRecord | undefined, from: string): Map<string, OutputChunk[]> {
  const targets = new Map<string, OutputChunk[]>();
  for (const chunk of chunks) {
    const job = jobOf(chunk.jobId);
    if (job?.state !== 'started' || job.nodeId === from) continue;
    const forNode = targets.get(job.nodeId);
    if (forNode) forNode.push(chunk);
    else targets.set(job.nodeId, [chunk]);
  }
  return targets;
}
