/**
 * Read-side questions the review console asks of the archive that the
 * ArchiveStore interface does not: the audit log by actor, action and time;
 * the record a release produced; how often each rule fired (enforced and
 * shadow) over a period; and per partner domain the last archived traffic.
 * Plain knex on both dialects; numbers normalized as in knex-store.ts.
 */
import type { Knex } from "knex";
import type { AuditEntry } from "./store.js";

const num = (v: unknown): number => (typeof v === "string" ? Number(v) : (v as number));

export interface AuditFilter {
  actor?: string | undefined;
  action?: string | undefined;
  since?: number | undefined;
  until?: number | undefined;
  /** Keyset paging, newest first: entries with id less than this. */
  beforeId?: number | undefined;
  limit: number;
}

export async function auditSearch(db: Knex, f: AuditFilter): Promise<AuditEntry[]> {
  const qb = db("archive_audit").select("*").orderBy("id", "desc").limit(f.limit);
  if (f.actor) qb.where("actor", f.actor);
  if (f.action) qb.where("action", f.action);
  if (f.since !== undefined) qb.where("at", ">=", f.since);
  if (f.until !== undefined) qb.where("at", "<", f.until);
  if (f.beforeId !== undefined) qb.where("id", "<", f.beforeId);
  return (await qb).map((r) => ({ id: num(r.id), at: num(r.at), actor: r.actor, action: r.action, query: r.query ?? null, result: r.result === null ? null : num(r.result) }));
}

/** The seq of the record a release of `seq` archived (its verdict detail says released-from:SEQ), if any. */
export async function releaseRecordOf(db: Knex, seq: number): Promise<number | undefined> {
  const needle = `"detail":"released-from:${seq}"`;
  const pg = db.client.config.client === "pg";
  const row = await db("archive_message as m")
    .join("archive_context as c", "c.id", "m.context_id")
    .where("m.verdict", "released")
    .whereRaw(pg ? "strpos(c.verdicts, ?) > 0" : "instr(c.verdicts, ?) > 0", [needle])
    .orderBy("m.seq", "desc")
    .first("m.seq");
  return row ? num(row.seq) : undefined;
}

export interface RuleHits {
  ruleId: string;
  enforced: number;
  shadow: number;
}

/**
 * Rule hits in [since, until): messages are grouped by their decision
 * context first, so each distinct verdict list is parsed once however many
 * messages share it.
 */
export async function ruleHits(db: Knex, since: number, until: number): Promise<RuleHits[]> {
  const groups = await db("archive_message as m")
    .join("archive_context as c", "c.id", "m.context_id")
    .where("m.ts", ">=", since)
    .where("m.ts", "<", until)
    .groupBy("c.id", "c.verdicts")
    .select("c.verdicts", db.raw("count(*) as n"));
  const tally = new Map<string, RuleHits>();
  for (const g of groups) {
    let list: { stage: string; ruleId: string | null; shadow: boolean }[];
    try {
      list = JSON.parse(g.verdicts as string);
    } catch {
      continue;
    }
    for (const v of list) {
      // A release names the rule that held the message, but it is an officer's act, not the rule firing again.
      if (!v.ruleId || v.stage === "review") continue;
      const t = tally.get(v.ruleId) ?? { ruleId: v.ruleId, enforced: 0, shadow: 0 };
      if (v.shadow) t.shadow += num(g.n);
      else t.enforced += num(g.n);
      tally.set(v.ruleId, t);
    }
  }
  return [...tally.values()].sort((a, b) => b.shadow + b.enforced - (a.shadow + a.enforced) || a.ruleId.localeCompare(b.ruleId));
}

export interface PartnerTraffic {
  domain: string;
  direction: string;
  lastAt: number;
  tlsVersion: string | null;
  auth: string | null;
  certFingerprint: string | null;
}

/** Per partner domain and direction, the newest archived record and the stream facts it carried. */
export async function partnerTraffic(db: Knex): Promise<PartnerTraffic[]> {
  const newest = db("archive_message").whereNotNull("partner_id").groupBy("partner_id", "direction").select(db.raw("max(seq) as seq"));
  const rows = await db("archive_message as m")
    .join("archive_party as p", "p.id", "m.partner_id")
    .leftJoin("archive_context as c", "c.id", "m.context_id")
    .whereIn("m.seq", newest)
    .select("p.address as domain", "m.direction", "m.ts", "c.tls_version", "c.auth", "c.cert_fingerprint");
  return rows.map((r) => ({ domain: r.domain, direction: r.direction, lastAt: num(r.ts), tlsVersion: r.tls_version ?? null, auth: r.auth ?? null, certFingerprint: r.cert_fingerprint ?? null }));
}
