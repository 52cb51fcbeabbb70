/**
 * What the archive keeps of one Envelope and its Decision, and the hash chain
 * over it.
 *
 * The chain: record N stores hash(N) = SHA-256(hash(N-1) || UTF-8(canonical(N))),
 * with hash(0) = 32 zero bytes. canonical(N) is the JSON array, in exactly this
 * order, of: seq, rid (hex), msgId, ts (ms since epoch, UTC), direction,
 * protocol, kind, type, from, to, partner, thread, subject, body, deliveredBody,
 * verdict, ruleId, policyVersion, tlsVersion, auth, certFingerprint, verdicts
 * (itself the canonical JSON text of the verdict list), then content (the
 * JSON text of the other parts, src/archive/content.ts) only when the record
 * has one, so records from before it hash as they did. Absent values are null;
 * strings are exactly as stored (addresses are not case-folded). JSON.stringify
 * of an array of strings, numbers and nulls is deterministic, which is what
 * makes this canonical. The database's single writer assigns seq, so the
 * chain is sequential.
 */
import { createHash, randomFillSync } from "node:crypto";
import type { Envelope } from "../model/envelope.js";
import type { Decision, VerdictRecord } from "../model/route.js";
import { archivedContent } from "./content.js";

export const GENESIS = Buffer.alloc(32);

/** One archived record as the journal carries it and the store writes it. */
export interface ArchiveRecord {
  /** Archive-assigned 128-bit id (hex): the idempotency key across replays. */
  rid: string;
  /** The Envelope's id. */
  msgId: string;
  ts: number;
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
  /**
   * The body as delivered (or, for a quarantined record, as a release would
   * deliver it), only when compliance changed it (redaction, disclaimer).
   */
  deliveredBody: string | null;
  /** allow, block, quarantine, or released (an officer let a quarantined record through): what review filters on. */
  verdict: string;
  ruleId: string | null;
  policyVersion: string | null;
  tlsVersion: string | null;
  auth: string | null;
  certFingerprint: string | null;
  /** Canonical JSON of the decision's verdict list. */
  verdicts: string;
  /** The other parts as received and as delivered (src/archive/content.ts); null when there are none. Absent in journals from before it. */
  content?: string | null | undefined;
}

/** A record as read back from the store. */
export interface StoredRecord extends ArchiveRecord {
  seq: number;
  hash: Buffer;
  /** Set when retention purged the content; only seq, rid, ts and hash remain. */
  purgeId: number | null;
}

let ridMs = 0;
let ridCount = 0;
/** Random bytes drawn from the CSPRNG a page at a time (one call per id cost more than the rest of the record); each byte is used once. */
const randomPool = Buffer.allocUnsafe(4096);
let randomAt = randomPool.length;
/** Where an id is put together before it becomes hex: filled in whole each time, and only ever used synchronously. */
const ridScratch = Buffer.allocUnsafe(16);

/**
 * A 128-bit record id laid out like a UUIDv7: 48 bits of milliseconds, a
 * 16-bit counter that keeps ids from one process strictly increasing, and 64
 * random bits that keep gateways sharing a database apart. Increasing ids
 * append to the right edge of the unique index, which stays packed full
 * instead of the two-thirds a random key leaves.
 */
export function newRid(now = Date.now()): string {
  if (now > ridMs) {
    ridMs = now;
    ridCount = 0;
  } else if (++ridCount > 0xffff) {
    // More than 65536 ids in one millisecond (or a clock step back): borrow the next millisecond.
    ridMs += 1;
    ridCount = 0;
  }
  const id = ridScratch;
  id.writeUIntBE(ridMs, 0, 6);
  id.writeUInt16BE(ridCount, 6);
  if (randomAt + 8 > randomPool.length) {
    randomFillSync(randomPool);
    randomAt = 0;
  }
  randomPool.copy(id, 8, randomAt, randomAt + 8);
  randomAt += 8;
  return id.toString("hex");
}

/** The verdict the archive files a record under. */
export function verdictOf(decision: Decision): { verdict: string; ruleId: string | null } {
  // One pass over the enforced (not shadow) verdicts: the first quarantine, the last with a rule, the last of all.
  let quarantine: VerdictRecord | undefined;
  let lastWithRule: VerdictRecord | undefined;
  let last: VerdictRecord | undefined;
  let released = false;
  for (const v of decision.verdicts) {
    if (v.shadow) continue;
    last = v;
    if (v.ruleId) lastWithRule = v;
    if (v.action === "quarantine") quarantine ??= v;
    else if (v.action === "release") released = true;
  }
  const deciding = quarantine ?? lastWithRule ?? last;
  // Decision.quarantined is how the pipeline says "held for review"; an enforced quarantine verdict means the same.
  const held = (decision as { quarantined?: boolean }).quarantined === true || !!quarantine;
  const verdict = held ? "quarantine" : released ? "released" : decision.deliver ? "allow" : "block";
  return { verdict, ruleId: deciding?.ruleId ?? null };
}

function canonicalVerdicts(list: VerdictRecord[]): string {
  // Most decisions have no verdicts: their canonical JSON is a constant.
  if (list.length === 0) return "[]";
  return JSON.stringify(
    list.map((v) => ({
      stage: v.stage,
      ruleId: v.ruleId ?? null,
      action: v.action,
      reason: v.reason ?? null,
      shadow: v.shadow ?? false,
      detail: (v as { detail?: string }).detail ?? null,
    })),
  );
}

export function toRecord(original: Envelope, decision: Decision, rid = newRid()): ArchiveRecord {
  const { verdict, ruleId } = verdictOf(decision);
  const delivered = decision.envelope.body;
  // A held record keeps the redactions made before the hold, so a release never sends what a redaction rule removed.
  const deliverable = decision.deliver || verdict === "quarantine";
  const sec = original.security;
  return {
    rid,
    msgId: original.id,
    ts: original.receivedAt,
    direction: original.direction,
    protocol: original.protocol,
    kind: original.kind,
    type: original.type ?? null,
    from: original.from,
    to: original.to,
    partner: original.partnerDomain ?? null,
    thread: original.thread ?? null,
    subject: original.subject ?? null,
    body: original.body ?? null,
    deliveredBody: deliverable && delivered !== undefined && delivered !== original.body ? delivered : null,
    verdict,
    ruleId,
    policyVersion: decision.policyVersion ?? null,
    tlsVersion: sec?.tlsVersion ?? null,
    auth: sec?.auth ?? null,
    certFingerprint: sec?.certFingerprint ?? null,
    verdicts: canonicalVerdicts(decision.verdicts),
    content: archivedContent(original, decision.envelope, deliverable),
  };
}

export function canonical(seq: number, r: ArchiveRecord): string {
  const fields: (string | number | null)[] = [
    seq, r.rid, r.msgId, r.ts, r.direction, r.protocol, r.kind, r.type, r.from, r.to, r.partner,
    r.thread, r.subject, r.body, r.deliveredBody, r.verdict, r.ruleId, r.policyVersion,
    r.tlsVersion, r.auth, r.certFingerprint, r.verdicts,
  ];
  if (r.content != null) fields.push(r.content);
  return JSON.stringify(fields);
}

export function chainHash(prev: Buffer, seq: number, r: ArchiveRecord): Buffer {
  return createHash("sha256").update(prev).update(canonical(seq, r), "utf8").digest();
}

/** Journal payload validation: a frame that passes its CRC but is not a record is a bug, not data. */
export function isArchiveRecord(v: unknown): v is ArchiveRecord {
  const r = v as Record<string, unknown>;
  return !!r && typeof r.rid === "string" && typeof r.msgId === "string" && typeof r.ts === "number" && typeof r.from === "string";
}
