/**
 * The archive writer's batch insert on SQLite, straight on better-sqlite3:
 * one transaction and prepared statements reused across batches, instead of
 * a knex query (built, compiled and prepared again) per chunk. Rows go in as
 * multi-row INSERTs of ROWS_PER_INSERT rows, which SQLite runs at about twice
 * the rate of the same rows one statement each; the rest of a batch goes in
 * row by row. The gateway runs it on the archive's writer thread
 * (append-thread.ts), with a connection of its own (on its own connection
 * only for :memory:): better-sqlite3 is synchronous, so on the event loop
 * the time a batch takes would be time every stream waits. Same rows,
 * schema, indexes, full text triggers and hash chain as the knex path it
 * replaces for SQLite.
 */
import { bareOf, domainOf } from "../model/envelope.js";
import type { Interning, Learned } from "./interning.js";
import { chainHash, GENESIS, type ArchiveRecord } from "./record.js";
import { MESSAGE_COLUMNS } from "./store-rows.js";

/** The part of better-sqlite3 used here (the package ships no types). */
export interface SqliteStatement {
  run(...params: unknown[]): unknown;
  get(...params: unknown[]): unknown;
  all(...params: unknown[]): unknown[];
  pluck(): SqliteStatement;
}
export interface SqliteConnection {
  prepare(sql: string): SqliteStatement;
  transaction<T>(fn: () => T): { immediate(): T };
}

/** 50 rows x 20 columns: well inside SQLite's 32,766 bound parameters. */
const ROWS_PER_INSERT = 50;

interface Statements {
  /** The rids, of ROWS_PER_INSERT asked, that are stored already. */
  stored: SqliteStatement;
  head: SqliteStatement;
  partyId: SqliteStatement;
  addParty: SqliteStatement;
  contextId: SqliteStatement;
  addContext: SqliteStatement;
  insertOne: SqliteStatement;
  insertMany: SqliteStatement;
}

const prepared = new WeakMap<SqliteConnection, Statements>();

function insertSql(rows: number): string {
  const tuple = `(${MESSAGE_COLUMNS.map(() => "?").join(", ")})`;
  return `insert into archive_message (${MESSAGE_COLUMNS.join(", ")}) values ${Array(rows).fill(tuple).join(", ")}`;
}

function statements(conn: SqliteConnection): Statements {
  let s = prepared.get(conn);
  if (!s) {
    s = {
      stored: conn.prepare(`select rid from archive_message where rid in (${Array(ROWS_PER_INSERT).fill("?").join(", ")})`).pluck(),
      head: conn.prepare("select seq, hash from archive_message order by seq desc limit 1"),
      partyId: conn.prepare("select id from archive_party where address = ?").pluck(),
      addParty: conn.prepare("insert into archive_party (address, bare, domain) values (?, ?, ?) on conflict (address) do nothing"),
      contextId: conn.prepare("select id from archive_context where digest = ?").pluck(),
      addContext: conn.prepare(
        "insert into archive_context (digest, policy_version, tls_version, auth, cert_fingerprint, verdicts) values (?, ?, ?, ?, ?, ?) on conflict (digest) do nothing",
      ),
      insertOne: conn.prepare(insertSql(1)),
      insertMany: conn.prepare(insertSql(ROWS_PER_INSERT)),
    };
    prepared.set(conn, s);
  }
  return s;
}

/** Interned ids for one transaction: the cache first, then the database (inserting what is new). */
function resolver(s: Statements, cache: Interning, learned: Learned) {
  return {
    party(address: string): number {
      let id = cache.parties.get(address) ?? learned.parties.get(address);
      if (id === undefined) {
        s.addParty.run(address, bareOf(address), domainOf(address));
        id = s.partyId.get(address) as number;
        learned.parties.set(address, id);
      }
      return id;
    },
    context(r: ArchiveRecord): number {
      const key = cache.contextKey(r);
      let id = cache.contexts.get(key) ?? learned.contexts.get(key);
      if (id === undefined) {
        s.addContext.run(key, r.policyVersion, r.tlsVersion, r.auth, r.certFingerprint, r.verdicts);
        id = s.contextId.get(key) as number;
        learned.contexts.set(key, id);
      }
      return id;
    },
  };
}

/**
 * The batch's records whose rid the database does not hold yet, first
 * occurrence only: one lookup per ROWS_PER_INSERT rids rather than one each
 * (a short last group is padded with its own first rid, which IN ignores).
 */
function unstored(s: Statements, records: ArchiveRecord[]): { r: ArchiveRecord; rid: Buffer }[] {
  const unique = new Map<string, ArchiveRecord>();
  for (const r of records) if (!unique.has(r.rid)) unique.set(r.rid, r);
  const candidates = [...unique.values()].map((r) => ({ r, rid: Buffer.from(r.rid, "hex") }));
  const stored = new Set<string>();
  for (let k = 0; k < candidates.length; k += ROWS_PER_INSERT) {
    const rids = candidates.slice(k, k + ROWS_PER_INSERT).map((c) => c.rid);
    while (rids.length < ROWS_PER_INSERT) rids.push(rids[0]!);
    for (const rid of s.stored.all(rids) as Buffer[]) stored.add(rid.toString("hex"));
  }
  // Compared as the database gives them back (lower-case hex), only in the rare batch that has any: a replay.
  return stored.size ? candidates.filter((c) => !stored.has(c.rid.toString("hex"))) : candidates;
}

/**
 * Inserts the records not stored yet, in one transaction. Ids learned for
 * parties and contexts go to `learned` and only reach the caller's caches once
 * the transaction committed.
 */
export function appendSqlite(conn: SqliteConnection, records: ArchiveRecord[], cache: Interning, learned: Learned): { inserted: number; skipped: number } {
  const s = statements(conn);
  const ids = resolver(s, cache, learned);
  const run = conn.transaction(() => {
    const fresh = unstored(s, records);
    if (fresh.length === 0) return { inserted: 0, skipped: records.length };
    const head = s.head.get() as { seq: number; hash: Buffer } | undefined;
    let seq = head ? Number(head.seq) : 0;
    let prev: Buffer = head ? head.hash : GENESIS;
    let params: unknown[] = [];
    for (const [i, { r, rid }] of fresh.entries()) {
      seq += 1;
      prev = chainHash(prev, seq, r);
      params.push(
        seq, rid, r.msgId, r.ts, r.direction, r.protocol, r.kind, r.type,
        ids.party(r.from), ids.party(r.to), r.partner === null ? null : ids.party(r.partner),
        r.thread, r.subject, r.body, r.deliveredBody, r.content ?? null, r.verdict, r.ruleId, ids.context(r), prev,
      );
      // Full groups of rows as one statement, in seq order; the tail one row at a time.
      if ((i + 1) % ROWS_PER_INSERT === 0) {
        s.insertMany.run(params);
        params = [];
      }
    }
    const width = MESSAGE_COLUMNS.length;
    for (let k = 0; k < params.length; k += width) s.insertOne.run(params.slice(k, k + width));
    return { inserted: fresh.length, skipped: records.length - fresh.length };
  });
  return run.immediate();
}
