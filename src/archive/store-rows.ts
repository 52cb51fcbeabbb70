/**
 * archive_message rows as the stores share them: the column order the writer
 * fills, the join that resolves interned addresses and contexts when reading
 * back, and the dialect normalization (bigint as string on PostgreSQL).
 */
import type { Knex } from "knex";
import type { StoredRecord } from "./record.js";

/** archive_message columns in the order the writer fills them. */
export const MESSAGE_COLUMNS = ["seq", "rid", "msg_id", "ts", "direction", "protocol", "kind", "type", "from_id", "to_id", "partner_id",
  "thread", "subject", "body", "delivered_body", "content", "verdict", "rule_id", "context_id", "hash"];

export const num = (v: unknown): number => (typeof v === "string" ? Number(v) : (v as number));
export const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : num(v));

/** archive_message as m, with its parties and context joined in. */
export function selectMessages(db: Knex): Knex.QueryBuilder {
  return db("archive_message as m")
    .leftJoin("archive_party as f", "f.id", "m.from_id")
    .leftJoin("archive_party as t", "t.id", "m.to_id")
    .leftJoin("archive_party as p", "p.id", "m.partner_id")
    .leftJoin("archive_context as c", "c.id", "m.context_id")
    .select(
      "m.*",
      "f.address as from_addr",
      "t.address as to_addr",
      "p.address as partner_addr",
      "c.policy_version",
      "c.tls_version",
      "c.auth",
      "c.cert_fingerprint",
      "c.verdicts",
    );
}

export function toStored(r: Record<string, unknown>): StoredRecord {
  const s = (k: string) => (r[k] === undefined ? null : (r[k] as string | null));
  return {
    seq: num(r.seq),
    rid: (r.rid as Buffer).toString("hex"),
    msgId: r.msg_id as string,
    ts: num(r.ts),
    direction: r.direction as string,
    protocol: r.protocol as string,
    kind: r.kind as string,
    type: s("type"),
    from: (r.from_addr as string | null) ?? "",
    to: (r.to_addr as string | null) ?? "",
    partner: s("partner_addr"),
    thread: s("thread"),
    subject: s("subject"),
    body: s("body"),
    deliveredBody: s("delivered_body"),
    verdict: r.verdict as string,
    ruleId: s("rule_id"),
    policyVersion: s("policy_version"),
    tlsVersion: s("tls_version"),
    auth: s("auth"),
    certFingerprint: s("cert_fingerprint"),
    verdicts: (r.verdicts as string | null) ?? "[]",
    content: s("content"),
    hash: r.hash as Buffer,
    purgeId: numOrNull(r.purge_id),
  };
}
