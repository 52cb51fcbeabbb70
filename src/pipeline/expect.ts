/**
 * `expect:` in a sample message: what the policy should decide, so officers
 * can keep policy regression tests and run them in CI with `demarc policy
 * test --samples DIR`. A bare word names the outcome; the long form may also
 * name rules that must fire (shadow ones included) and tags the archive must get.
 */
import { z } from "zod";
import type { Decision } from "../model/route.js";

export const OUTCOMES = ["allow", "deliver", "redact", "block", "quarantine"] as const;
export type Outcome = (typeof OUTCOMES)[number];

const outcome = z.enum(OUTCOMES, { error: () => `expect must be one of ${OUTCOMES.join(", ")}` });

export const expectSchema = z
  .union([
    outcome,
    z
      .object({
        verdict: outcome,
        /** Rule ids that must be among those that fired. */
        rules: z.array(z.string().min(1)).optional(),
        /** Tags the delivered message must carry. */
        tags: z.array(z.string().min(1)).optional(),
      })
      .strict(),
  ], { error: () => `expect must be one of ${OUTCOMES.join(", ")}, or { verdict, rules, tags }` })
  .transform((e) => (typeof e === "string" ? { verdict: e } : e));

export type Expectation = z.output<typeof expectSchema>;

/**
 * The outcome of a decision in the words of `expect:`: block and quarantine
 * when not delivered; redact when an enforced redaction changed the text;
 * allow when delivered otherwise (disclaimers, tags and copies included).
 * "deliver" in an expectation accepts allow and redact alike.
 */
export function outcomeOf(d: Decision): Exclude<Outcome, "deliver"> {
  if (!d.deliver) return d.quarantined ? "quarantine" : "block";
  return d.verdicts.some((v) => v.action === "redact" && !v.shadow) ? "redact" : "allow";
}

/** What differs from the expectation, in words; empty when it holds. */
export function mismatches(e: Expectation, d: Decision): string[] {
  const out: string[] = [];
  const got = outcomeOf(d);
  const ok = e.verdict === got || (e.verdict === "deliver" && (got === "allow" || got === "redact"));
  if (!ok) out.push(`expected ${e.verdict}, got ${got}`);
  const fired = new Set(d.verdicts.map((v) => v.ruleId).filter((x): x is string => x !== undefined));
  const missing = (e.rules ?? []).filter((r) => !fired.has(r));
  if (missing.length) out.push(`expected rule${missing.length > 1 ? "s" : ""} ${missing.join(", ")} to fire; fired: ${[...fired].join(", ") || "none"}`);
  const tags = new Set(d.envelope.tags ?? []);
  const absent = (e.tags ?? []).filter((t) => !tags.has(t));
  if (absent.length) out.push(`expected tag${absent.length > 1 ? "s" : ""} ${absent.join(", ")}; got ${[...tags].join(", ") || "none"}`);
  return out;
}
