/**
 * Per-address request budget: a token bucket per remote IP so one flooding
 * peer gets 503 (RFC 3261 21.5.4, with Retry-After) instead of starving the
 * others, and its connections are cut when it keeps going.
 */
export interface RateLimits {
  perSecond: number;
  burst: number;
}

interface Bucket {
  tokens: number;
  at: number;
  refused: number;
}

export type Admission = "ok" | "refuse" | "cut";

export class AddressLimiter {
  private readonly buckets = new Map<string, Bucket>();
  constructor(private readonly limits: RateLimits, private readonly maxTracked = 10_000) {}

  admit(address: string, now = Date.now()): Admission {
    let b = this.buckets.get(address);
    if (!b) {
      if (this.buckets.size >= this.maxTracked) this.prune(now);
      b = { tokens: this.limits.burst, at: now, refused: 0 };
      this.buckets.set(address, b);
    }
    b.tokens = Math.min(this.limits.burst, b.tokens + ((now - b.at) / 1000) * this.limits.perSecond);
    b.at = now;
    if (b.tokens >= 1) {
      b.tokens -= 1;
      b.refused = 0;
      return "ok";
    }
    b.refused++;
    // Answering every refused request is itself work: past a burst of refusals, stop answering.
    return b.refused > this.limits.burst ? "cut" : "refuse";
  }

  private prune(now: number): void {
    for (const [k, b] of this.buckets) if (now - b.at > 10_000) this.buckets.delete(k);
    if (this.buckets.size >= this.maxTracked) this.buckets.clear();
  }
}
