/**
 * What the kernel says about a process of this machine (Linux /proc): its resident memory now
 * and at its peak, and the CPU time it used. Worker threads share their process, so these cover
 * a node's workers as well. `pnpm bench --scale` measures its processes with them.
 */
import { readFileSync } from "node:fs";

/** Clock ticks per second of /proc/<pid>/stat's utime and stime (USER_HZ, 100 on Linux). */
const TICKS_PER_S = 100;

/** A field of /proc/<pid>/status (`VmRSS`, `VmHWM`), in MB (10^6 bytes); 0 when it cannot be read. */
function statusMb(pid: number, field: "VmRSS" | "VmHWM"): number {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/status`, "utf8");
  } catch {
    return 0;
  }
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(text);
  return match ? (Number(match[1]) * 1024) / 1e6 : 0;
}

/** Resident memory of `pid` now, MB. */
export const rssMb = (pid: number): number => statusMb(pid, "VmRSS");

/** Peak resident memory of `pid` since it started (VmHWM), MB. */
export const peakRssMb = (pid: number): number => statusMb(pid, "VmHWM");

/**
 * CPU seconds `pid` used so far, user + system, all its threads (10 ms resolution). The
 * command name in field 2 may hold spaces and parentheses: fields are counted after its last ')'.
 */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // After the name: state is field 3, utime field 14 and stime field 15 (1-based, proc(5)).
  return (Number(fields[14 - 3]) + Number(fields[15 - 3])) / TICKS_PER_S;
}
