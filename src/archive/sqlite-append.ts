/**
 * The archive writer's batch insert on SQLite, straight on better-sqlite3:
 * one transaction and prepared statements reused across batches, instead of
 * a knex query (built, compiled and prepared again) per chunk. better-sqlite3
 * runs on the event loop, so the time a batch takes is time every stream
 * waits: this path is what keeps the writer off the relay's critical path.
 * Same rows, same schema, indexes, full text triggers and hash chain as the
 * knex path it replaces for SQLite.
 */
import { bareOf, domainOf } from "../model/envelope.js";
import { chainHash, GENESIS, type ArchiveRecord } from "./record.js";

/** The part of better-sqlite3 used here (the package ships no types). */
export interface SqliteStatement {
  run(...params: unknown[]): unknown;
  get(...params: unknown[]): unknown;
  pluck(): SqliteStatement;
}
export interface SqliteConnection {
  prepare(sql: string): SqliteStatement;
  transaction<T>(fn: () => T): { immediate(): T };
}

interface Statements {
  has: SqliteStatement;
  head: SqliteStatement;
  partyId: SqliteStatement;
  addParty: SqliteStatement;
  contextId: SqliteStatement;
  addContext: SqliteStatement;
  insert: SqliteStatement;
}

const prepared = new WeakMap<SqliteConnection, Statements>();

function statements(conn: SqliteConnection): Statements {
  let s = prepared.get(conn);
  if (!s) {
    s = {
      has: conn.prepare("select 1 from archive_message where rid = ?").pluck(),
      head: conn.prepare("select seq, hash from archive_message order by seq desc limit 1"),
      partyId: conn.prepare("select id from archive_party where address = ?").pluck(),
      addParty: conn.prepare("insert into archive_party (address, bare, domain) values (?, ?, ?) on conflict (address) do nothing"),
      contextId: conn.prepare("select id from archive_context where digest = ?").pluck(),
      addContext: conn.prepare(
        "insert into archive_context (digest, policy_version, tls_version, auth, cert_fingerprint, verdicts) values (?, ?, ?, ?, ?, ?) on conflict (digest) do nothing",
      ),
      insert: conn.prepare(
        `insert into archive_message (seq, rid, msg_id, ts, direction, protocol, kind, type, from_id, to_id, partner_id,
           thread, subject, body, delivered_body, content, verdict, rule_id, context_id, hash)
         values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
    };
    prepared.set(conn, s);
  }
  return s;
}

export interface Interning {
  parties: Map<string, number>;
  contexts: Map<string, number>;
  contextKey(r: ArchiveRecord): string;
}

/**
 * Inserts the records not stored yet, in one transaction. Ids learned for
 * parties and contexts go to `learned` and only reach the caller's caches once
 * the transaction committed.
 */
export function appendSqlite(
  conn: SqliteConnection,
  records: ArchiveRecord[],
  cache: Interning,
  learned: { parties: Map<string, number>; contexts: Map<string, number> },
): { inserted: number; skipped: number } {
  const s = statements(conn);
  const party = (address: string): number => {
    let id = cache.parties.get(address) ?? learned.parties.get(address);
    if (id === undefined) {
      s.addParty.run(address, bareOf(address), domainOf(address));
      id = s.partyId.get(address) as number;
      learned.parties.set(address, id);
    }
    return id;
  };
  const context = (r: ArchiveRecord): number => {
    const key = cache.contextKey(r);
    let id = cache.contexts.get(key) ?? learned.contexts.get(key);
    if (id === undefined) {
      s.addContext.run(key, r.policyVersion, r.tlsVersion, r.auth, r.certFingerprint, r.verdicts);
      id = s.contextId.get(key) as number;
      learned.contexts.set(key, id);
    }
    return id;
  };
  const run = conn.transaction(() => {
    const seen = new Set<string>();
    const fresh = records.filter((r) => !seen.has(r.rid) && (seen.add(r.rid), true) && s.has.get(Buffer.from(r.rid, "hex")) === undefined);
    if (fresh.length === 0) return { inserted: 0, skipped: records.length };
    const head = s.head.get() as { seq: number; hash: Buffer } | undefined;
    let seq = head ? Number(head.seq) : 0;
    let prev: Buffer = head ? head.hash : GENESIS;
    for (const r of fresh) {
      seq += 1;
      prev = chainHash(prev, seq, r);
      s.insert.run(
        seq, Buffer.from(r.rid, "hex"), r.msgId, r.ts, r.direction, r.protocol, r.kind, r.type,
        party(r.from), party(r.to), r.partner === null ? null : party(r.partner),
        r.thread, r.subject, r.body, r.deliveredBody, r.content ?? null, r.verdict, r.ruleId, context(r), prev,
      );
    }
    return { inserted: fresh.length, skipped: records.length - fresh.length };
  });
  return run.immediate();
}
