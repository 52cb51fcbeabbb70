/**
 * Per-partner limits (RFC 6120 section 13.12): a token bucket per partner
 * domain that pauses reading instead of dropping. The count of open streams
 * per remote address, shared with c2s, is in src/xmpp/address-counter.ts.
 */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private rate: number,
    private burst: number,
    private readonly now: () => number = Date.now,
  ) {
    this.tokens = burst;
    this.last = now();
  }

  configure(rate: number, burst: number): void {
    this.rate = rate;
    this.burst = burst;
    this.tokens = Math.min(this.tokens, burst);
  }

  private refill(): void {
    const t = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((t - this.last) / 1000) * this.rate);
    this.last = t;
  }

  /** Takes one token; returns 0, or how many ms until one is available (the token is still taken). */
  take(): number {
    this.refill();
    this.tokens -= 1;
    return this.tokens >= 0 ? 0 : Math.ceil((-this.tokens / this.rate) * 1000);
  }
}

export class RateLimits {
  private readonly buckets = new Map<string, TokenBucket>();

  constructor(private readonly settings: (domain: string) => { rate: number; burst: number }) {}

  /** ms to wait before reading more from a stream of this partner (0: go on). */
  take(domain: string): number {
    let b = this.buckets.get(domain);
    const s = this.settings(domain);
    if (!b) {
      b = new TokenBucket(s.rate, s.burst);
      this.buckets.set(domain, b);
    } else {
      b.configure(s.rate, s.burst);
    }
    return b.take();
  }
}
