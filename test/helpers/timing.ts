/**
 * Time bounds in tests on a shared machine. What is measured is the CPU time
 * this process spends, not the wall clock: on a loaded machine the wall clock
 * also counts the time the process waited for a core, which says nothing about
 * the code. The code is warmed up first (the JIT), then the best of several
 * runs counts, so a GC pause is not a failure but work that grows faster than
 * the input still is.
 */
export function cpuMs(run: () => void): number {
  const t = process.cpuUsage();
  run();
  const d = process.cpuUsage(t);
  return (d.user + d.system) / 1000;
}

export function bestMs(run: () => void, { warmup = 3, runs = 5 } = {}): number {
  for (let k = 0; k < warmup; k++) run();
  let best = Infinity;
  for (let k = 0; k < runs; k++) best = Math.min(best, cpuMs(run));
  return best;
}
