/**
 * Time bounds in tests on a shared machine: warm the code up (the JIT), then
 * take the best of several runs, so a GC pause or a busy neighbour is not a
 * failure but work that grows faster than the input still is.
 */
export function bestMs(run: () => void, { warmup = 3, runs = 5 } = {}): number {
  for (let k = 0; k < warmup; k++) run();
  let best = Infinity;
  for (let k = 0; k < runs; k++) {
    const t = performance.now();
    run();
    best = Math.min(best, performance.now() - t);
  }
  return best;
}
