/**
 * Whether a value that may be answered at once or later is the later kind.
 * The hot path returns plain values where nothing had to wait (compliance
 * stages, the router's decide step) and tells them apart with this rather
 * than wrapping every answer in a promise.
 */
export function isThenable<T>(x: T | PromiseLike<T>): x is PromiseLike<T> {
  return typeof (x as { then?: unknown } | null)?.then === "function";
}
