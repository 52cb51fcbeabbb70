/**
 * The archive store on knex, for SQLite and PostgreSQL. Dialect differences
 * (bigint as string, full text, the writer lock) are normalized here and in
 * query.ts; everything else is plain knex so MSSQL and Oracle can follow.
 */
import { createHash } from "node:crypto";
import type { Knex } from "knex";
import { appendSqlite, type SqliteConnection } from "./sqlite-append.js";
import { copyRows, type CopyValue } from "./pg-copy.js";
import { bareOf, domainOf } from "../model/envelope.js";
import { isPostgres, type Db } from "./db.js";
import { applyQuery } from "./query.js";
import { chainHash, GENESIS, type ArchiveRecord, type StoredRecord } from "./record.js";
import type { ArchiveQuery, ArchiveStore, AuditEntry, FindOptions, Hold, PurgeEntry, Review } from "./store.js";

const CHUNK = 200;
/** archive_message columns in the order the writer fills them. */
const MESSAGE_COLUMNS = ["seq", "rid", "msg_id", "ts", "direction", "protocol", "kind", "type", "from_id", "to_id", "partner_id",
  "thread", "subject", "body", "delivered_body", "content", "verdict", "rule_id", "context_id", "hash"];
const num = (v: unknown): number => (typeof v === "string" ? Number(v) : (v as number));
const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : num(v));

function chunks<T>(list: T[], n = CHUNK): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < list.length; i += n) out.push(list.slice(i, i + n));
  return out;
}

function contextKey(r: ArchiveRecord): string {
  return createHash("sha256")
    .update(JSON.stringify([r.policyVersion, r.tlsVersion, r.auth, r.certFingerprint, r.verdicts]))
    .digest("hex");
}

export class KnexArchiveStore implements ArchiveStore {
  readonly dialect: "sqlite" | "pg";
  private readonly parties = new Map<string, number>();
  private readonly contexts = new Map<string, number>();

  constructor(private readonly db: Db) {
    this.dialect = isPostgres(db) ? "pg" : "sqlite";
  }

  async ping(): Promise<void> {
    await this.db.raw("select 1");
  }

  async append(records: ArchiveRecord[]): Promise<{ inserted: number; skipped: number }> {
    const learned = { parties: new Map<string, number>(), contexts: new Map<string, number>() };
    const result = this.dialect === "sqlite" ? await this.appendSqlite(records, learned) : await this.appendKnex(records, learned);
    // Only ids from a committed transaction may be cached.
    for (const [k, v] of learned.parties) this.parties.set(k, v);
    for (const [k, v] of learned.contexts) this.contexts.set(k, v);
    return result;
  }

  /** SQLite: better-sqlite3 directly, prepared statements in one transaction (see sqlite-append.ts). */
  private async appendSqlite(records: ArchiveRecord[], learned: { parties: Map<string, number>; contexts: Map<string, number> }) {
    const client = this.db.client as { acquireConnection(): Promise<SqliteConnection>; releaseConnection(c: unknown): Promise<void> };
    const conn = await client.acquireConnection();
    try {
      return appendSqlite(conn, records, { parties: this.parties, contexts: this.contexts, contextKey }, learned);
    } finally {
      await client.releaseConnection(conn);
    }
  }

  /** PostgreSQL: knex for the lock, dedupe and interning; COPY for the rows (see pg-copy.ts). */
  private async appendKnex(records: ArchiveRecord[], learned: { parties: Map<string, number>; contexts: Map<string, number> }) {
    return this.db.transaction(async (trx) => {
      // One writer at a time per schema keeps the chain sequential even if two gateways share a database.
      if (this.dialect === "pg") await trx.raw("select pg_advisory_xact_lock(hashtext(current_schema() || '.archive_message'))");
      const stored = new Set<string>();
      for (const c of chunks(records.map((r) => Buffer.from(r.rid, "hex")))) {
        for (const row of await trx("archive_message").select("rid").whereIn("rid", c)) stored.add((row.rid as Buffer).toString("hex"));
      }
      const fresh = records.filter((r) => !stored.has(r.rid) && (stored.add(r.rid), true));
      if (fresh.length === 0) return { inserted: 0, skipped: records.length };
      const head = await trx("archive_message").select("seq", "hash").orderBy("seq", "desc").first();
      let seq = head ? num(head.seq) : 0;
      let prev: Buffer = head ? (head.hash as Buffer) : GENESIS;
      const partyIds = await this.internParties(trx, fresh, learned.parties);
      const contextIds = await this.internContexts(trx, fresh, learned.contexts);
      const rows = fresh.map((r): CopyValue[] => {
        seq += 1;
        prev = chainHash(prev, seq, r);
        return [
          seq, Buffer.from(r.rid, "hex"), r.msgId, r.ts, r.direction, r.protocol, r.kind, r.type,
          partyIds.get(r.from), partyIds.get(r.to), r.partner === null ? null : partyIds.get(r.partner),
          r.thread, r.subject, r.body, r.deliveredBody, r.content ?? null, r.verdict, r.ruleId, contextIds.get(contextKey(r)), prev,
        ];
      });
      await copyRows(trx, "archive_message", MESSAGE_COLUMNS, rows);
      return { inserted: fresh.length, skipped: records.length - fresh.length };
    });
  }

  private async internParties(trx: Knex.Transaction, recs: ArchiveRecord[], learned: Map<string, number>): Promise<Map<string, number>> {
    const ids = new Map<string, number>();
    const want = new Set<string>();
    for (const r of recs) for (const a of [r.from, r.to, r.partner]) if (a !== null) want.add(a);
    const missing = [...want].filter((a) => {
      const id = this.parties.get(a);
      if (id !== undefined) ids.set(a, id);
      return id === undefined;
    });
    const lookup = async (list: string[]) => {
      for (const c of chunks(list)) {
        for (const row of await trx("archive_party").select("id", "address").whereIn("address", c)) {
          ids.set(row.address as string, num(row.id));
          learned.set(row.address as string, num(row.id));
        }
      }
    };
    await lookup(missing);
    const absent = missing.filter((a) => !ids.has(a));
    for (const c of chunks(absent)) {
      await trx("archive_party")
        .insert(c.map((a) => ({ address: a, bare: bareOf(a), domain: domainOf(a) })))
        .onConflict("address")
        .ignore();
    }
    await lookup(absent);
    return ids;
  }

  private async internContexts(trx: Knex.Transaction, recs: ArchiveRecord[], learned: Map<string, number>): Promise<Map<string, number>> {
    const ids = new Map<string, number>();
    const want = new Map<string, ArchiveRecord>();
    for (const r of recs) {
      const k = contextKey(r);
      const id = this.contexts.get(k);
      if (id !== undefined) ids.set(k, id);
      else want.set(k, r);
    }
    if (want.size === 0) return ids;
    const lookup = async () => {
      for (const row of await trx("archive_context").select("id", "digest").whereIn("digest", [...want.keys()])) {
        ids.set(row.digest as string, num(row.id));
        learned.set(row.digest as string, num(row.id));
      }
    };
    await lookup();
    const absent = [...want].filter(([k]) => !ids.has(k));
    if (absent.length) {
      await trx("archive_context")
        .insert(absent.map(([digest, r]) => ({
          digest,
          policy_version: r.policyVersion,
          tls_version: r.tlsVersion,
          auth: r.auth,
          cert_fingerprint: r.certFingerprint,
          verdicts: r.verdicts,
        })))
        .onConflict("digest")
        .ignore();
      await lookup();
    }
    return ids;
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
