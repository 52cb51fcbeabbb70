/**
 * Rate and size limits per partner domain or per sending user. "max_messages
 * per window_s" is a sliding window: in any window_s seconds at most
 * max_messages pass. Each key counts what it let through in 60 slices of the
 * window and refuses while the last 61 slices (the window and the slice now
 * running) already hold max_messages, so the bound holds for every window
 * position; the price is that a message's allowance comes back up to one slice
 * (window_s / 60) after an exact log would give it back. 61 counters per key,
 * whatever the limit, in a bounded map that outlives policy reloads, so a
 * reload does not hand every sender a fresh allowance.
 */
import { bareOf } from "../../model/envelope.js";
import { contentBytes } from "../content.js";
import type { CompiledLimit } from "../policy/compile.js";
import type { Stage, Verdict } from "../stage.js";

/** Slices per window. */
export const SLICES = 60;

interface Window {
  windowMs: number;
  /** Messages let through per slice, a ring indexed by slice number modulo SLICES + 1. */
  counts: Uint32Array;
  /** The newest slice counted. */
  last: number;
}

export class LimitState {
  private readonly windows = new Map<string, Window>();

  constructor(private readonly maxKeys = 100_000) {}

  /** Counts one message and returns true, or false when the window is full (nothing is counted then). */
  take(key: string, max: number, windowMs: number, now: number): boolean {
    const slice = Math.floor(now / (windowMs / SLICES));
    let w = this.windows.get(key);
    if (w) this.windows.delete(key);
    if (!w || w.windowMs !== windowMs) {
      w = { windowMs, counts: new Uint32Array(SLICES + 1), last: slice };
      if (this.windows.size >= this.maxKeys) this.windows.delete(this.windows.keys().next().value!);
    }
    this.windows.set(key, w);
    // Slices that ended since the last message no longer count; clock steps back are counted in the newest slice.
    const current = Math.max(slice, w.last);
    for (let s = w.last + 1; s <= current && s <= w.last + SLICES + 1; s++) w.counts[s % (SLICES + 1)] = 0;
    w.last = current;
    let used = 0;
    for (const c of w.counts) used += c;
    if (used >= max) return false;
    w.counts[current % (SLICES + 1)]! += 1;
    return true;
  }

  get size(): number {
    return this.windows.size;
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
