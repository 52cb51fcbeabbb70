/**
 * Quarantine review: listing held records and deciding on them. A decision is
 * kept in archive_review, outside the hash chain, so deciding never alters a
 * chained record. A release rebuilds the held envelope from its record and
 * hands it, already decided, to the router: compliance does not run again (it
 * would only hold it again), and the router archives the delivery as a record
 * of its own with verdict "released", so the archive shows the hold and the
 * release side by side. Every decision, refusal and failed delivery is audited.
 */
import type { Direction, Envelope, EnvelopeKind, Protocol, SecurityContext } from "../model/envelope.js";
import type { Decision, DeliveryError, RouteResult } from "../model/route.js";
import type { StoredRecord } from "./record.js";
import type { OutcomeRecorder } from "../model/outcome.js";
import type { ArchiveStore, Review } from "./store.js";
import { parseArchivedContent, restoreContent } from "./content.js";

/** Archives and delivers an envelope whose decision is made (Router.deliverDecided). */
export type Redeliver = (original: Envelope, decision: Decision) => Promise<RouteResult>;

/** The archive keeps no rich presence and no IQ payload, so only these kinds can be sent again from a record. */
const RELEASABLE = new Set<string>(["message", "groupchat", "file-transfer", "subscription"]);

export type ReviewOutcome =
  | { status: "released"; review: Review; record: StoredRecord; envelope: Envelope }
  | { status: "rejected"; review: Review; record: StoredRecord }
  /** No such record, or not a quarantined one. */
  | { status: "unknown"; message: string }
  | { status: "reviewed"; review: Review; message: string }
  /** Retention removed the content: there is nothing left to deliver. */
  | { status: "purged"; message: string }
  | { status: "unreleasable"; message: string }
  /** Delivery failed; the record stays pending. */
  | { status: "failed"; error: DeliveryError; message: string };

export interface ReviewRequest {
  seq: number;
  actor: string;
  comment?: string | null | undefined;
}

/** A pending record as the admin API and `quarantine list --json` show it. */
export interface PendingItem {
  id: number;
  rid: string;
  at: string;
  direction: string;
  protocol: string;
  kind: string;
  type: string | null;
  from: string;
  to: string;
  partner: string | null;
  thread: string | null;
  subject: string | null;
  body: string | null;
  /** What a release would deliver when a redaction before the hold changed the body. */
  deliveredBody: string | null;
  rule: string | null;
  reason: string | null;
  policyVersion: string | null;
}

function reasonOf(r: StoredRecord, action: string): string | null {
  try {
    const list = JSON.parse(r.verdicts) as { action: string; shadow: boolean; reason: string | null }[];
    return list.find((v) => v.action === action && !v.shadow)?.reason ?? null;
  } catch {
    return null;
  }
}

const holdReason = (r: StoredRecord) => reasonOf(r, "quarantine");

/** Who released a "released" record, from the review verdict the release wrote ("released by ACTOR[: comment]"). */
export function releasedBy(r: StoredRecord): string | undefined {
  if (r.verdict !== "released") return undefined;
  return reasonOf(r, "release")?.match(/^released by (.*?)(?:: [\s\S]*)?$/)?.[1];
}

export function pendingItem(r: StoredRecord): PendingItem {
  return {
    id: r.seq,
    rid: r.rid,
    at: new Date(r.ts).toISOString(),
    direction: r.direction,
    protocol: r.protocol,
    kind: r.kind,
    type: r.type,
    from: r.from,
    to: r.to,
    partner: r.partner,
    thread: r.thread,
    subject: r.subject,
    body: r.body,
    deliveredBody: r.deliveredBody,
    rule: r.ruleId,
    reason: holdReason(r),
    policyVersion: r.policyVersion,
  };
}

export function describeReview(v: Review): string {
  return `${v.decision} by ${v.actor} at ${new Date(v.at).toISOString()}${v.comment ? ` ("${v.comment}")` : ""}`;
}

const opt = (v: string | null) => v ?? undefined;

/**
 * The held envelope as it crossed the edge, rebuilt from its record: the
 * original text (the archive's copy) and, apart, the content to deliver.
 */
export function releasedEnvelopes(r: StoredRecord, now: number): { original: Envelope; deliver: Envelope } {
  const security: SecurityContext | undefined = r.auth
    ? { auth: r.auth as SecurityContext["auth"], tlsVersion: opt(r.tlsVersion), certFingerprint: opt(r.certFingerprint) }
    : undefined;
  const original: Envelope = {
    id: r.msgId,
    receivedAt: now,
    direction: r.direction as Direction,
    protocol: r.protocol as Protocol,
    kind: r.kind as EnvelopeKind,
    from: r.from,
    to: r.to,
    partnerDomain: opt(r.partner),
    type: opt(r.type),
    body: opt(r.body),
    subject: opt(r.subject),
    thread: opt(r.thread),
    security,
    tags: [`released-from:${r.seq}`],
  };
  const c = parseArchivedContent(r.content);
  const received = restoreContent(original, c?.received);
  const decided = c?.delivered ? restoreContent({ ...original, subject: undefined, thread: undefined }, c.delivered) : received;
  return { original: received, deliver: r.deliveredBody === null ? decided : { ...decided, body: r.deliveredBody } };
}

export class QuarantineDesk {
  constructor(
    private readonly store: ArchiveStore,
    /** Absent where no gateway runs (the CLI): reject works, release does not. */
    private readonly redeliver?: Redeliver,
    private readonly now: () => number = Date.now,
    /** Where a rejection is told (a release is told by the router, which delivers it). */
    private readonly outcomes?: OutcomeRecorder,
  ) {}

  /** Pending records, oldest first; listing is audited like a search. */
  async pending(actor: string, opts: { afterSeq?: number | undefined; limit: number }): Promise<StoredRecord[]> {
    const rows = await this.store.pendingQuarantine(opts.afterSeq ?? 0, opts.limit);
    await this.audit(actor, "quarantine-list", { after: opts.afterSeq ?? 0, limit: opts.limit }, rows.length);
    return rows;
  }

  async reject(req: ReviewRequest): Promise<ReviewOutcome> {
    const found = await this.reviewable(req, "reject");
    if (!("seq" in found)) return found;
    const claimed = await this.claim(req, "rejected", found);
    if (claimed.status !== "claimed") return claimed;
    await this.audit(req.actor, "quarantine-reject", { id: req.seq, comment: req.comment ?? null }, null);
    this.outcomes?.record({ msgId: found.msgId, at: this.now(), outcome: "rejected", detail: `rejected by ${req.actor}${req.comment ? `: ${req.comment}` : ""}` });
    return { status: "rejected", review: claimed.review, record: found };
  }

  async release(req: ReviewRequest): Promise<ReviewOutcome> {
    if (!this.redeliver) throw new Error("release needs the running gateway's router");
    const found = await this.reviewable(req, "release");
    if (!("seq" in found)) return found;
    if (found.purgeId !== null) {
      return this.refused(req, "release", { status: "purged", message: `record #${req.seq} was purged by retention; there is nothing left to release (reject it to close it)` });
    }
    if (!RELEASABLE.has(found.kind)) {
      return this.refused(req, "release", { status: "unreleasable", message: `record #${req.seq} is a ${found.kind}, which the archive cannot deliver again; reject it instead` });
    }
    const claimed = await this.claim(req, "released", found);
    if (claimed.status !== "claimed") return claimed;
    const { original, deliver } = releasedEnvelopes(found, this.now());
    const decision: Decision = {
      deliver: true,
      envelope: deliver,
      // The hold was decided under this policy; the release is the officer's answer to that decision.
      policyVersion: found.policyVersion ?? "none",
      verdicts: [{
        stage: "review",
        ruleId: found.ruleId ?? undefined,
        action: "release",
        reason: `released by ${req.actor}${req.comment ? `: ${req.comment}` : ""}`,
        detail: `released-from:${req.seq}`,
      }],
    };
    let result: RouteResult;
    try {
      result = await this.redeliver(original, decision);
    } catch (err) {
      result = { delivered: false, error: { condition: "internal-server-error", type: "wait", text: (err as Error).message } };
    }
    if (!result.delivered) {
      // Undelivered is not released: the record goes back to pending so the officer can retry or reject it.
      await this.store.removeReview(claimed.review.id);
      const { condition, text } = result.error;
      await this.audit(req.actor, "quarantine-release-failed", { id: req.seq, condition, text: text ?? null }, null);
      return { status: "failed", error: result.error, message: `record #${req.seq} could not be delivered to ${found.to}: ${condition}${text ? ` (${text})` : ""}; it stays in quarantine` };
    }
    await this.audit(req.actor, "quarantine-release", { id: req.seq, comment: req.comment ?? null }, null);
    return { status: "released", review: claimed.review, record: found, envelope: deliver };
  }

  private async reviewable(req: ReviewRequest, verb: "release" | "reject"): Promise<StoredRecord | Exclude<ReviewOutcome, { record: StoredRecord }>> {
    const record = await this.store.get(req.seq);
    if (!record) return this.refused(req, verb, { status: "unknown", message: `no archived record #${req.seq}` });
    if (record.verdict !== "quarantine") {
      return this.refused(req, verb, { status: "unknown", message: `record #${req.seq} was not quarantined (its verdict is ${record.verdict})` });
    }
    const existing = await this.store.reviewOf(req.seq);
    if (existing) return this.refused(req, verb, this.alreadyReviewed(existing));
    return record;
  }

  private async claim(req: ReviewRequest, decision: Review["decision"], record: StoredRecord): Promise<{ status: "claimed"; review: Review } | Exclude<ReviewOutcome, { record: StoredRecord }>> {
    const { review, created } = await this.store.addReview({ seq: record.seq, at: this.now(), decision, actor: req.actor, comment: req.comment ?? null });
    if (!created) return this.refused(req, decision === "released" ? "release" : "reject", this.alreadyReviewed(review));
    return { status: "claimed", review };
  }

  private alreadyReviewed(review: Review): { status: "reviewed"; review: Review; message: string } {
    return { status: "reviewed", review, message: `record #${review.seq} was already ${describeReview(review)}` };
  }

  private async refused<const T extends { status: string; message: string }>(req: ReviewRequest, verb: string, outcome: T): Promise<T> {
    await this.audit(req.actor, `quarantine-${verb}-refused`, { id: req.seq, why: outcome.message }, null);
    return outcome;
  }

  private audit(actor: string, action: string, query: unknown, result: number | null): Promise<void> {
    return this.store.audit({ at: this.now(), actor, action, query: JSON.stringify(query), result });
  }
}
