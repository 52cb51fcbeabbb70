/**
 * The archive schema. Compact by design: addresses and per-stream decision
 * context are interned in their own tables (a message row holds small integer
 * ids), time is epoch milliseconds (UTC) in a bigint, the record id and chain
 * hash are raw bytes, and partial indexes skip the common case (no thread,
 * verdict allow). Plain types only (bigint, integer, varchar, text, binary) so
 * MSSQL and Oracle dialects can follow; only full-text search, index storage
 * options and the JM view are per dialect. No foreign-key constraints: the
 * single writer keeps references whole, and the checks would cost every insert.
 *
 * Size on PostgreSQL, per stored message (bench/archive.ts prints the split):
 *  - fixed-width columns come first, widest first, so no alignment padding
 *    sits between them;
 *  - record ids are time-ordered (record.ts), so their unique index and the
 *    seq key only ever grow at the right edge and can pack pages full;
 *  - the party indexes are single-column, where btree deduplication (PG 13+)
 *    stores each party once per page instead of once per message; time ranges
 *    come from the BRIN index on ts;
 *  - the full-text GIN index has fastupdate off: the pending list would batch
 *    inserts, but the pages it leaves behind after merging are never returned,
 *    which made the index six times its compact size. The writer already
 *    batches.
 */
import type { Knex } from "knex";

const pg = (db: Knex) => db.client.config.client === "pg";

export async function up(db: Knex): Promise<void> {
  await db.schema.createTable("archive_party", (t) => {
    t.increments("id");
    t.string("address", 1023).notNullable().unique();
    t.string("bare", 1023).notNullable().index();
    t.string("domain", 255).notNullable().index();
  });
  await db.schema.createTable("archive_context", (t) => {
    t.increments("id");
    t.string("digest", 64).notNullable().unique();
    t.string("policy_version", 128);
    t.string("tls_version", 16);
    t.string("auth", 16);
    t.string("cert_fingerprint", 128);
    t.text("verdicts").notNullable();
  });
  await db.schema.createTable("archive_message", (t) => {
    t.bigIncrements("seq");
    t.bigInteger("ts").notNullable();
    t.integer("from_id");
    t.integer("to_id");
    t.integer("partner_id");
    t.integer("context_id");
    t.integer("purge_id");
    t.binary("rid", 16).notNullable();
    t.binary("hash", 32).notNullable();
    t.string("msg_id", 255).notNullable();
    t.string("direction", 8);
    t.string("protocol", 8);
    t.string("kind", 16);
    t.string("type", 16);
    t.string("verdict", 16);
    t.string("rule_id", 128);
    t.string("thread", 255);
    t.text("subject");
    t.text("body");
    t.text("delivered_body");
  });
  if (pg(db)) {
    // Append-only keys: a full page is never revisited, so leave no room in it.
    await db.raw("alter index archive_message_pkey set (fillfactor = 100)");
    await db.raw("create unique index archive_message_rid on archive_message (rid) with (fillfactor = 100)");
    await db.raw("create index archive_message_from on archive_message (from_id)");
    await db.raw("create index archive_message_to on archive_message (to_id)");
  } else {
    await db.raw("create unique index archive_message_rid on archive_message (rid)");
    await db.raw("create index archive_message_from on archive_message (from_id, ts)");
    await db.raw("create index archive_message_to on archive_message (to_id, ts)");
  }
  // Rows arrive in time order, so on PostgreSQL a BRIN index serves time ranges at a tiny fraction of a btree's size.
  await db.raw(`create index archive_message_ts on archive_message ${pg(db) ? "using brin (ts)" : "(ts)"}`);
  await db.raw("create index archive_message_thread on archive_message (thread) where thread is not null");
  await db.raw("create index archive_message_review on archive_message (verdict, rule_id) where verdict <> 'allow'");
  await db.schema.createTable("archive_hold", (t) => {
    t.increments("id");
    t.bigInteger("created_at").notNullable();
    t.string("created_by", 255).notNullable();
    t.string("scope", 16).notNullable();
    t.text("value").notNullable();
    t.text("reason");
    t.bigInteger("released_at");
    t.string("released_by", 255);
  });
  await db.schema.createTable("archive_purge", (t) => {
    t.increments("id");
    t.bigInteger("at").notNullable();
    t.string("actor", 255).notNullable();
    t.text("rules").notNullable();
    t.integer("purged").notNullable();
    t.integer("held").notNullable();
  });
  await db.schema.createTable("archive_audit", (t) => {
    t.bigIncrements("id");
    t.bigInteger("at").notNullable();
    t.string("actor", 255).notNullable();
    t.string("action", 32).notNullable();
    t.text("query");
    t.integer("result");
  });
  if (pg(db)) {
    // No stored tsvector column: an expression index costs only the index (phrase matches recheck the row).
    await db.raw(
      "create index archive_message_fts on archive_message using gin (to_tsvector('simple', coalesce(subject, '') || ' ' || coalesce(body, ''))) with (fastupdate = off)",
    );
    await db.raw(`create view jm as
      select t.address as to_jid, f.address as from_jid,
        (to_timestamp(m.ts / 1000.0) at time zone 'UTC') as sent_date,
        m.subject, m.thread as thread_id, coalesce(m.type, 'chat') as msg_type,
        case m.direction when 'outbound' then 'O' else 'I' end as direction,
        coalesce(length(m.body), 0) as body_len, coalesce(length(m.body), 0) as message_len,
        m.body as body_string, m.body as message_string, 'N' as history_flag
      from archive_message m
      left join archive_party f on f.id = m.from_id
      left join archive_party t on t.id = m.to_id
      where m.kind in ('message', 'groupchat') and m.purge_id is null`);
  } else {
    // External-content FTS5: the text lives once, in archive_message.
    await db.raw("create virtual table archive_fts using fts5(subject, body, content='archive_message', content_rowid='seq')");
    await db.raw(`create trigger archive_fts_ai after insert on archive_message begin
      insert into archive_fts(rowid, subject, body) values (new.seq, new.subject, new.body); end`);
    await db.raw(`create trigger archive_fts_ad after delete on archive_message begin
      insert into archive_fts(archive_fts, rowid, subject, body) values ('delete', old.seq, old.subject, old.body); end`);
    await db.raw(`create trigger archive_fts_au after update of subject, body on archive_message begin
      insert into archive_fts(archive_fts, rowid, subject, body) values ('delete', old.seq, old.subject, old.body);
      insert into archive_fts(rowid, subject, body) values (new.seq, new.subject, new.body); end`);
    await db.raw(`create view jm as
      select t.address as to_jid, f.address as from_jid,
        strftime('%Y-%m-%d %H:%M:%f', m.ts / 1000.0, 'unixepoch') as sent_date,
        m.subject, m.thread as thread_id, coalesce(m.type, 'chat') as msg_type,
        case m.direction when 'outbound' then 'O' else 'I' end as direction,
        coalesce(length(m.body), 0) as body_len, coalesce(length(m.body), 0) as message_len,
        m.body as body_string, m.body as message_string, 'N' as history_flag
      from archive_message m
      left join archive_party f on f.id = m.from_id
      left join archive_party t on t.id = m.to_id
      where m.kind in ('message', 'groupchat') and m.purge_id is null`);
  }
}

export async function down(db: Knex): Promise<void> {
  await db.raw("drop view if exists jm");
  if (!pg(db)) await db.raw("drop table if exists archive_fts");
  for (const t of ["archive_audit", "archive_purge", "archive_hold", "archive_message", "archive_context", "archive_party"]) {
    await db.schema.dropTableIfExists(t);
  }
}
