/**
 * The archived messages: appending a batch (extending the hash chain, through
 * the dialect's bulk path) and reading records back by search, by seq and in
 * chain order.
 */
import type { Knex } from "knex";
import { Interning, type Learned } from "./interning.js";
import { appendPg } from "./pg-append.js";
import { applyQuery } from "./query.js";
import type { ArchiveRecord, StoredRecord } from "./record.js";
import { withSqliteConnection } from "./db.js";
import { appendSqlite } from "./sqlite-append.js";
import { num, selectMessages, toStored } from "./store-rows.js";
import type { ArchiveQuery, FindOptions } from "./store.js";

export class MessageStore {
  private readonly interning = new Interning();

  constructor(
    private readonly db: Knex,
    private readonly dialect: "sqlite" | "pg",
  ) {}

  async append(records: ArchiveRecord[]): Promise<{ inserted: number; skipped: number }> {
    const learned = Interning.learning();
    const result = this.dialect === "sqlite" ? await this.appendSqlite(records, learned) : await appendPg(this.db, records, this.interning, learned);
    // Only ids from a committed transaction may be cached.
    this.interning.commit(learned);
    return result;
  }

  /** SQLite: better-sqlite3 directly, prepared statements in one transaction (see sqlite-append.ts). */
  private appendSqlite(records: ArchiveRecord[], learned: Learned) {
    return withSqliteConnection(this.db, (conn) => appendSqlite(conn, records, this.interning, learned));
  }

  async find(q: ArchiveQuery, opts: FindOptions): Promise<StoredRecord[]> {
    const qb = applyQuery(this.db, selectMessages(this.db), q, this.dialect === "pg");
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

  async get(seq: number): Promise<StoredRecord | undefined> {
    const row = (await selectMessages(this.db).where("m.seq", seq).first()) as Record<string, unknown> | undefined;
    return row ? toStored(row) : undefined;
  }
}
