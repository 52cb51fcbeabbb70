/**
 * What became of a decided envelope, told by the router (and the quarantine
 * desk) to whoever records it: the archive keeps it beside the record, so a
 * message refused by routing is not on file as sent.
 */
import type { EnvelopeKind } from "./envelope.js";
import type { Decision } from "./route.js";

export const OUTCOMES = ["delivered", "stored-offline", "discarded", "bounced", "refused", "blocked", "held", "released", "rejected"] as const;
export type DeliveryOutcome = (typeof OUTCOMES)[number];

export interface OutcomeEntry {
  /** The envelope id, which the archive record carries as msg_id. */
  msgId: string;
  at: number;
  outcome: DeliveryOutcome;
  /** The protocol's error condition for bounced, refused and blocked (RFC 6120 section 8.3.3). */
  condition?: string | undefined;
  /** The error text, or who released or rejected it. */
  detail?: string | undefined;
}

export interface OutcomeRecorder {
  /** `about` lets the recorder skip envelopes the archive did not keep (presence, by default). */
  record(entry: OutcomeEntry, about?: { kind: EnvelopeKind; decision: Decision }): void;
}

/** What a delivery target may answer instead of nothing: the message did not reach a device yet, or never will. */
export interface DeliveryReceipt {
  outcome: "stored-offline" | "discarded";
}
