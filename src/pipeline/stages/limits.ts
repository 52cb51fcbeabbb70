/**
 * Rate and size limits per partner domain or per sending user. Rates are token
 * buckets (max_messages per window_s, refilled smoothly) kept in a bounded map
 * that outlives policy reloads, so a reload does not hand every sender a fresh
 * allowance.
 */
import { bareOf } from "../../model/envelope.js";
import { contentBytes } from "../content.js";
import type { CompiledLimit } from "../policy/compile.js";
import type { Stage, Verdict } from "../stage.js";

interface Bucket {
  tokens: number;
  at: number;
}

export class LimitState {
  private readonly buckets = new Map<string, Bucket>();

  constructor(private readonly maxKeys = 100_000) {}

  /** Takes one token; false when the bucket is empty. */
  take(key: string, capacity: number, windowMs: number, now: number): boolean {
    let b = this.buckets.get(key);
    if (b) {
      this.buckets.delete(key);
      b.tokens = Math.min(capacity, b.tokens + ((now - b.at) * capacity) / windowMs);
      b.at = now;
    } else {
      b = { tokens: capacity, at: now };
      if (this.buckets.size >= this.maxKeys) this.buckets.delete(this.buckets.keys().next().value!);
    }
    this.buckets.set(key, b);
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

  get size(): number {
    return this.buckets.size;
  }
}

export function limitsStage(limits: CompiledLimit[], state: LimitState): Stage {
  return {
    name: "limits",
    evaluate({ envelope, now }): Verdict[] {
      const out: Verdict[] = [];
      for (const l of limits) {
        if (!l.def.enabled || !l.applies(envelope)) continue;
        const d = l.def;
        const base = { ruleId: d.id, shadow: d.shadow };
        // Every part counts: a large XHTML body or extension is as large as a large body.
        if (d.max_body_bytes !== undefined && contentBytes(envelope) > d.max_body_bytes) {
          out.push({ ...base, action: "block", reason: d.reason ?? `Message too large (limit ${d.max_body_bytes} bytes).`, error: { type: "modify" } });
          if (!d.shadow) return out;
          continue;
        }
        if (d.max_messages === undefined) continue;
        const who = d.per === "partner" ? (envelope.partnerDomain ?? "").toLowerCase() : bareOf(envelope.from);
        if (!state.take(`${d.id}\0${who}`, d.max_messages, d.window_s * 1000, now)) {
          out.push({ ...base, action: "block", reason: d.reason ?? "Too many messages; try again later.", error: { type: "wait" } });
          if (!d.shadow) return out;
        }
      }
      return out;
    },
  };
}
