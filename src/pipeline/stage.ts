/**
 * The one interface every compliance stage implements. A stage looks at an
 * Envelope (as earlier stages left it) and returns zero or more verdicts; the
 * pipeline applies them in order and decides. Stages never deliver, archive or
 * know a wire format, so a third-party stage plugs in by name like a built-in.
 */
import type { Envelope } from "../model/envelope.js";
import type { DeliveryError } from "../model/route.js";
import type { MatchableParts } from "./parts.js";

interface VerdictBase {
  /** The rule, wall, limit, lexicon or server id that made it. */
  ruleId?: string | undefined;
  /** Why, for the audit trail; for block it is the text the sender sees. */
  reason?: string | undefined;
  /** Record it, but do not enforce it. */
  shadow?: boolean | undefined;
}

export type Verdict = VerdictBase &
  (
    | { action: "allow" }
    | { action: "block"; error?: Partial<DeliveryError> | undefined }
    | { action: "quarantine" }
    /**
     * What the redaction rewrote: `parts` maps content paths (src/pipeline/content.ts)
     * to their new text; `body` alone (plug-ins, external servers) is the whole body
     * (or presence status) as it should read. `count` is how many spans were replaced.
     */
    | { action: "redact"; body?: string | undefined; parts?: Record<string, string> | undefined; count: number }
    | { action: "tag"; tags: string[] }
    | { action: "disclaimer"; text: string; position: "append" | "prepend" }
    | { action: "copy"; to: string }
  );

export type VerdictAction = Verdict["action"];

/** Actions after which nothing else runs: the message will not be delivered. */
export const TERMINAL: ReadonlySet<VerdictAction> = new Set(["block", "quarantine"]);

export interface StageInput {
  envelope: Envelope;
  /** When the pipeline saw it; time windows and rate limits use this, not the clock. */
  now: number;
  /** Its parts in matchable form, shared by the stages of one evaluation; built on first use. */
  parts?: MatchableParts | undefined;
}

export interface Stage {
  readonly name: string;
  evaluate(input: StageInput): Verdict[] | Promise<Verdict[]>;
}
