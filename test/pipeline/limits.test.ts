import { join } from "node:path";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { CompliancePipeline } from "../../src/pipeline/pipeline.js";
import { loadPolicy } from "../../src/pipeline/policy/index.js";
import { LimitState, SLICES } from "../../src/pipeline/stages/limits.js";
import { envelope } from "./fixtures.js";

const shipped = join(import.meta.dirname, "..", "..", "policies");
const MINUTE = 60_000;

/** The most timestamps (sorted) inside any window of `ms`. */
function busiestWindow(times: number[], ms: number): number {
  let best = 0;
  for (let i = 0, j = 0; i < times.length; i++) {
    while (times[j]! <= times[i]! - ms) j++;
    best = Math.max(best, i - j + 1);
  }
  return best;
}

describe("rate limits are sliding windows", () => {
  it("the shipped 600 messages a minute lets at most 600 through in any minute, and about 600 every minute", async () => {
    const { set } = loadPolicy(shipped);
    expect(set.limits.find((l) => l.def.id === "limit-partner-rate")!.def).toMatchObject({ max_messages: 600, window_s: 60 });
    const pipeline = new CompliancePipeline(set, { log: pino({ level: "silent" }) });
    const t0 = Date.parse("2026-03-02T10:00:00Z");
    const passed: number[] = [];
    // A partner sending 40 messages a second for three minutes.
    for (let i = 0; i < 7_200; i++) {
      const now = t0 + i * 25;
      const env = envelope({ direction: "inbound", from: `u${i % 50}@partner.example`, to: "alice@corp.example", partnerDomain: "partner.example", body: "status" });
      const { decision } = await pipeline.trace(env, now);
      if (decision.deliver) passed.push(now);
      else expect(decision.verdicts.at(-1)).toMatchObject({ ruleId: "limit-partner-rate", action: "block" });
    }
    expect(busiestWindow(passed, MINUTE)).toBe(600);
    // A token bucket of 600 refilled at 10/s let close to 1,200 through in the first minute.
    expect(passed.filter((t) => t < t0 + MINUTE)).toHaveLength(600);
    // The allowance comes back: at most one slice (1 s) later than an exact log would.
    expect(passed.length).toBeGreaterThanOrEqual(3 * 600 - 2 * 40);
  });

  it("a burst at the end of one minute and another at the start of the next: the second is refused", () => {
    const s = new LimitState();
    const t0 = 1_000 * MINUTE;
    let first = 0;
    for (let i = 0; i < 700; i++) if (s.take("k", 600, MINUTE, t0 + 59_000 + i)) first++;
    expect(first).toBe(600);
    let second = 0;
    for (let i = 0; i < 700; i++) if (s.take("k", 600, MINUTE, t0 + 61_000 + i)) second++;
    expect(second).toBe(0); // a fixed window would have let 600 more through here
    // Once the burst's slice has left the window, the full allowance is back.
    let later = 0;
    for (let i = 0; i < 700; i++) if (s.take("k", 600, MINUTE, t0 + 59_000 + MINUTE + MINUTE / SLICES + i)) later++;
    expect(later).toBe(600);
  });

  it("a clock step back counts in the newest slice; a changed window starts afresh; keys are bounded", () => {
    const s = new LimitState(100);
    expect(s.take("k", 1, MINUTE, 10 * MINUTE)).toBe(true);
    expect(s.take("k", 1, MINUTE, 9 * MINUTE)).toBe(false);
    expect(s.take("k", 1, 2 * MINUTE, 10 * MINUTE)).toBe(true);
    for (let i = 0; i < 500; i++) s.take(`u${i}`, 1, MINUTE, 0);
    expect(s.size).toBe(100);
  });
});
