/**
 * The archive store on knex, for SQLite and PostgreSQL. Dialect differences
 * (bigint as string, full text, the writer lock) are normalized here and in
 * query.ts; everything else is plain knex so MSSQL and Oracle can follow.
 */
import type { Knex } from "knex";
import { appendSqlite, type SqliteConnection } from "./sqlite-append.js";
import { appendPg } from "./pg-append.js";
import { Interning, type Learned } from "./interning.js";
import { isPostgres, type Db } from "./db.js";
import { applyQuery } from "./query.js";
import { type ArchiveRecord, type StoredRecord } from "./record.js";
import type { ArchiveQuery, ArchiveStore, AuditEntry, FindOptions, Hold, PurgeEntry, Review } from "./store.js";

const CHUNK = 200;
const num = (v: unknown): number => (typeof v === "string" ? Number(v) : (v as number));
const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : num(v));

function chunks<T>(list: T[], n = CHUNK): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < list.length; i += n) out.push(list.slice(i, i + n));
  return out;
}

export class KnexArchiveStore implements ArchiveStore {
  readonly dialect: "sqlite" | "pg";
  private readonly interning = new Interning();

  constructor(private readonly db: Db) {
    this.dialect = isPostgres(db) ? "pg" : "sqlite";
  }

  async ping(): Promise<void> {
    await this.db.raw("select 1");
  }

  async append(records: ArchiveRecord[]): Promise<{ inserted: number; skipped: number }> {
    const learned = Interning.learning();
    const result = this.dialect === "sqlite" ? await this.appendSqlite(records, learned) : await appendPg(this.db, records, this.interning, learned);
    // Only ids from a committed transaction may be cached.
    this.interning.commit(learned);
    return result;
  }

  /** SQLite: better-sqlite3 directly, prepared statements in one transaction (see sqlite-append.ts). */
  private async appendSqlite(records: ArchiveRecord[], learned: Learned) {
    const client = this.db.client as { acquireConnection(): Promise<SqliteConnection>; releaseConnection(c: unknown): Promise<void> };
    const conn = await client.acquireConnection();
    try {
      return appendSqlite(conn, records, this.interning, learned);
    } finally {
      await client.releaseConnection(conn);
    }
  }

  private select(): Knex.QueryBuilder {
    return this.db("archive_message as m")
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

  async find(q: ArchiveQuery, opts: FindOptions): Promise<StoredRecord[]> {
    const qb = applyQuery(this.db, this.select(), q, this.dialect === "pg");
    if (!opts.includePurged) qb.whereNull("m.purge_id");
    if (opts.afterSeq !== undefined) qb.where("m.seq", ">", opts.afterSeq);
    if (opts.beforeSeq !== undefined) qb.where("m.seq", "<", opts.beforeSeq);
    const newestFirst = opts.beforeSeq !== undefined;
    const rows = (await qb.orderBy("m.seq", newestFirst ? "desc" : "asc").limit(opts.limit)) as Record<string, unknown>[];
    return rows.map(toStored);
  }

  async count(q: ArchiveQuery): Promise<number> {
    const qb = applyQuery(this.db, this.db("archive_message as m"), q, this.dialect === "pg").whereNull("m.purge_id");
    const row = await qb.count({ n: "*" }).first();
    return num(row?.n ?? 0);
  }

  chain(afterSeq: number, limit: number): Promise<StoredRecord[]> {
    return this.find({}, { afterSeq, limit, includePurged: true });
  }

  async tombstone(seqs: number[], purgeId: number): Promise<number> {
    let n = 0;
    await this.db.transaction(async (trx) => {
      for (const c of chunks(seqs, 500)) {
        n += await trx("archive_message").whereIn("seq", c).whereNull("purge_id").update({
          from_id: null, to_id: null, partner_id: null, thread: null, subject: null, body: null,
          delivered_body: null, content: null, rule_id: null, context_id: null, purge_id: purgeId,
        });
      }
    });
    return n;
  }

  async recordPurge(e: Omit<PurgeEntry, "id">): Promise<number> {
    const [row] = await this.db("archive_purge").insert(e).returning("id");
    return num((row as { id: unknown }).id);
  }
  async updatePurge(id: number, purged: number, held: number): Promise<void> {
    await this.db("archive_purge").where({ id }).update({ purged, held });
  }
  async purges(): Promise<PurgeEntry[]> {
    const rows = await this.db("archive_purge").select("*").orderBy("id");
    return rows.map((r) => ({ ...r, id: num(r.id), at: num(r.at), purged: num(r.purged), held: num(r.held) }));
  }

  async addHold(h: Omit<Hold, "id" | "releasedAt" | "releasedBy">): Promise<number> {
    const [row] = await this.db("archive_hold")
      .insert({ created_at: h.createdAt, created_by: h.createdBy, scope: h.scope, value: h.value, reason: h.reason })
      .returning("id");
    return num((row as { id: unknown }).id);
  }
  async releaseHold(id: number, by: string, at: number): Promise<boolean> {
    const n = await this.db("archive_hold").where({ id }).whereNull("released_at").update({ released_at: at, released_by: by });
    return n > 0;
  }
  async holds(activeOnly: boolean): Promise<Hold[]> {
    const qb = this.db("archive_hold").select("*").orderBy("id");
    if (activeOnly) qb.whereNull("released_at");
    return (await qb).map((r) => ({
      id: num(r.id),
      createdAt: num(r.created_at),
      createdBy: r.created_by,
      scope: r.scope,
      value: r.value,
      reason: r.reason ?? null,
      releasedAt: numOrNull(r.released_at),
      releasedBy: r.released_by ?? null,
    }));
  }

  async get(seq: number): Promise<StoredRecord | undefined> {
    const row = (await this.select().where("m.seq", seq).first()) as Record<string, unknown> | undefined;
    return row ? toStored(row) : undefined;
  }

  async pendingQuarantine(afterSeq: number, limit: number): Promise<StoredRecord[]> {
    const rows = (await this.select()
      .where("m.verdict", "quarantine")
      .whereNull("m.purge_id")
      .where("m.seq", ">", afterSeq)
      .whereNotExists(this.db("archive_review as r").select("r.id").whereRaw("r.seq = m.seq"))
      .orderBy("m.seq", "asc")
      .limit(limit)) as Record<string, unknown>[];
    return rows.map(toStored);
  }

  async countPendingQuarantine(): Promise<number> {
    const [row] = (await this.db("archive_message as m")
      .where("m.verdict", "quarantine")
      .whereNull("m.purge_id")
      .whereNotExists(this.db("archive_review as r").select("r.id").whereRaw("r.seq = m.seq"))
      .count({ n: "*" })) as { n: number | string }[];
    return Number(row?.n ?? 0);
  }

  async addReview(r: Omit<Review, "id">): Promise<{ review: Review; created: boolean }> {
    const existing = await this.reviewOf(r.seq);
    if (existing) return { review: existing, created: false };
    try {
      const [row] = await this.db("archive_review")
        .insert({ seq: r.seq, at: r.at, decision: r.decision, actor: r.actor, comment: r.comment })
        .returning("id");
      return { review: { ...r, id: num((row as { id: unknown }).id) }, created: true };
    } catch (err) {
      // Another officer (or gateway) reviewed it between the check and the insert: the unique key on seq refused ours.
      const raced = await this.reviewOf(r.seq);
      if (raced) return { review: raced, created: false };
      throw err;
    }
  }
  async reviewOf(seq: number): Promise<Review | undefined> {
    const r = await this.db("archive_review").where({ seq }).first();
    if (!r) return undefined;
    return { id: num(r.id), seq: num(r.seq), at: num(r.at), decision: r.decision, actor: r.actor, comment: r.comment ?? null };
  }
  async removeReview(id: number): Promise<void> {
    await this.db("archive_review").where({ id }).delete();
  }

  async audit(e: Omit<AuditEntry, "id">): Promise<void> {
    await this.db("archive_audit").insert(e);
  }
  async auditLog(limit: number): Promise<AuditEntry[]> {
    const rows = await this.db("archive_audit").select("*").orderBy("id", "desc").limit(limit);
    return rows.map((r) => ({ id: num(r.id), at: num(r.at), actor: r.actor, action: r.action, query: r.query ?? null, result: numOrNull(r.result) }));
  }
}

function toStored(r: Record<string, unknown>): StoredRecord {
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
