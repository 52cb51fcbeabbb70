/**
 * CPU and memory of a process by PID, from /proc (Linux): the figures a
 * benchmark prints beside its throughput.
 */
import { readFileSync } from "node:fs";

const TICKS_PER_S = 100;

/** User + system CPU seconds the process (or, given a thread id, that one thread) has used so far. */
export function cpuSeconds(pid: number, tid?: number): number {
  const stat = readFileSync(tid === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${tid}/stat`, "utf8");
  // Fields after the command name (which may hold spaces) start after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_S;
}

/** Resident set size and its peak, in MB. */
export function memoryMb(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+)`, "m").exec(status)?.[1] ?? 0);
  return { rss: kb("VmRSS") / 1024, peak: kb("VmHWM") / 1024 };
}

/**
 * Measures a process while `work` runs: CPU seconds used, as a share of one
 * core, and RSS after. `mainSeconds` is the main thread's share of the CPU
 * (the event loop, whose time every stream waits for); the rest went to the
 * process's other threads: the archive writer, V8's collector helpers and
 * libuv's pool, which a second core runs beside it.
 */
export async function measured<T>(
  pid: number | undefined,
  work: () => Promise<T>,
): Promise<{ result: T; cpu?: { seconds: number; mainSeconds: number; cores: number; rssMb: number; peakMb: number } }> {
  const cpu0 = pid ? cpuSeconds(pid) : 0;
  // On Linux the main thread's id is the process id.
  const main0 = pid ? cpuSeconds(pid, pid) : 0;
  const t0 = performance.now();
  const result = await work();
  if (!pid) return { result };
  const seconds = cpuSeconds(pid) - cpu0;
  const mainSeconds = cpuSeconds(pid, pid) - main0;
  const wall = (performance.now() - t0) / 1000;
  const mem = memoryMb(pid);
  return { result, cpu: { seconds, mainSeconds, cores: seconds / wall, rssMb: mem.rss, peakMb: mem.peak } };
}

/**
 * CPU seconds every process on the machine has used so far (/proc/stat:
 * user, nice, system, irq, softirq, steal), to tell a saturated machine
 * (where the peers, the clients and demarc share the cores) from a waiting one.
 */
export function machineBusySeconds(): number {
  const f = readFileSync("/proc/stat", "utf8").slice(0, 200).split("\n")[0]!.trim().split(/\s+/).slice(1).map(Number);
  return (f[0]! + f[1]! + f[2]! + f[5]! + f[6]! + (f[7] ?? 0)) / TICKS_PER_S;
}
