/**
 * The contracts between the edge, the router and what sits behind it. The
 * edge hands Envelopes to the router; compliance decides; the archive records;
 * a delivery target takes what was allowed. None of these know a wire format.
 */
import type { Envelope } from "./envelope.js";
import type { DeliveryReceipt } from "./outcome.js";

/** An error the edge turns into its protocol's form (XMPP stanza error, SIP status). */
export interface DeliveryError {
  /** XMPP stanza error condition (RFC 6120 section 8.3.3), e.g. policy-violation. */
  condition: string;
  /** Human-readable text for the sender. */
  text?: string | undefined;
  /** Error type per RFC 6120 section 8.3.2. */
  type?: "auth" | "cancel" | "continue" | "modify" | "wait" | undefined;
}

/** What compliance decided about one Envelope. */
export interface Decision {
  deliver: boolean;
  /** The envelope to deliver: redactions and disclaimers already applied. */
  envelope: Envelope;
  /** Why it was not delivered, for the sender. */
  error?: DeliveryError | undefined;
  /** Hash of the policy files in force. */
  policyVersion: string;
  /** One entry per stage or rule that acted, in order; shadow verdicts included. */
  verdicts: VerdictRecord[];
  /**
   * Held for review rather than delivered (deliver is false): the archive marks
   * the record quarantined so a security analyst can release it later.
   */
  quarantined?: boolean | undefined;
  /**
   * Copies a "copy" verdict asked for: the router hands each one, as decided
   * (redactions applied), to the internal target addressed to `to`, after the
   * archive has the original, whether or not the original is delivered.
   */
  copies?: CopyTarget[] | undefined;
}

export interface CopyTarget {
  /** Internal address (bare JID) that receives the copy, e.g. a compliance reviewer. */
  to: string;
  /** The rule that asked for it. */
  ruleId?: string | undefined;
}

export interface VerdictRecord {
  stage: string;
  ruleId?: string | undefined;
  action: string;
  reason?: string | undefined;
  /** Recorded but not enforced. */
  shadow?: boolean | undefined;
  /** The action's parameters for the audit trail (tags, copy target, redaction count); never body text. */
  detail?: string | undefined;
}

export interface Compliance {
  evaluate(envelope: Envelope): Promise<Decision>;
  /**
   * The same decision, but answered at once when nothing had to be waited
   * for: the router's lanes call this per envelope, and a promise that is
   * already settled still costs a turn and an allocation.
   */
  decide?(envelope: Envelope): Decision | Promise<Decision>;
}

/** Resolves once the record is durable (journal group commit), not when it reaches the database. */
export interface Archiver {
  record(original: Envelope, decision: Decision): Promise<void>;
  /** True while the journal or the database is behind: streams stop reading until it clears. */
  congested?(): boolean;
}

export interface DeliveryTarget {
  /**
   * Rejects with a DeliveryFailure when the recipient cannot be reached;
   * may answer a receipt when the message was stored for later or discarded.
   */
  deliver(envelope: Envelope): Promise<void | DeliveryReceipt>;
}

export class DeliveryFailure extends Error {
  /**
   * @param routing true when our own routing refused it (partner not allowed,
   *   domain denied): the archive files it as refused, not bounced.
   */
  constructor(readonly error: DeliveryError, readonly routing = false) {
    super(`${error.condition}${error.text ? `: ${error.text}` : ""}`);
  }
}

export type RouteResult = { delivered: true; envelope: Envelope } | { delivered: false; error: DeliveryError };
