/**
 * Slows down repeated authentication failures (RFC 6120 section 13.1: guard
 * against dictionary attacks). Failures are counted per remote address and per
 * username over a window; each further attempt waits twice as long, up to a cap.
 * Bounded memory: the oldest keys are dropped past maxKeys.
 */
export interface ThrottleOptions {
  baseMs?: number;
  maxMs?: number;
  windowMs?: number;
  maxKeys?: number;
  now?: () => number;
}

export class AuthThrottle {
  private readonly failures = new Map<string, { count: number; last: number }>();
  private readonly baseMs: number;
  private readonly maxMs: number;
  private readonly windowMs: number;
  private readonly maxKeys: number;
  private readonly now: () => number;

  constructor(opts: ThrottleOptions = {}) {
    this.baseMs = opts.baseMs ?? 250;
    this.maxMs = opts.maxMs ?? 8_000;
    this.windowMs = opts.windowMs ?? 15 * 60_000;
    this.maxKeys = opts.maxKeys ?? 100_000;
    this.now = opts.now ?? Date.now;
  }

  /** How long to hold the answer to an attempt from this address for this user. */
  delayFor(address: string, username: string): number {
    const n = Math.max(this.count(`ip:${address}`), this.count(`user:${username}`));
    return n === 0 ? 0 : Math.min(this.maxMs, this.baseMs * 2 ** (n - 1));
  }

  fail(address: string, username: string): void {
    for (const k of [`ip:${address}`, `user:${username}`]) {
      const e = this.failures.get(k);
      const count = e && this.now() - e.last < this.windowMs ? e.count + 1 : 1;
      this.failures.delete(k);
      this.failures.set(k, { count, last: this.now() });
    }
    while (this.failures.size > this.maxKeys) this.failures.delete(this.failures.keys().next().value!);
  }

  succeed(address: string, username: string): void {
    this.failures.delete(`user:${username}`);
    this.failures.delete(`ip:${address}`);
  }

  private count(key: string): number {
    const e = this.failures.get(key);
    if (!e || this.now() - e.last >= this.windowMs) return 0;
    return e.count;
  }
}
