/**
 * The archive's SQLite writer thread (started by append-worker.ts): its own
 * better-sqlite3 connection to the gateway's database file (WAL lets the
 * gateway's connection read and write beside it), its own prepared
 * statements and its own interning cache. It takes the writer's batches as
 * the journal's JSON texts, decodes them here, and appends them through
 * sqlite-append.ts; it writes delivery outcomes the same way. It answers
 * each request once its transaction committed, or with the error.
 */
import { createRequire } from "node:module";
import { parentPort, workerData } from "node:worker_threads";
import { Interning } from "./interning.js";
import { insertOutcomesSqlite, type OutcomeValue } from "./outcome-rows.js";
import { decodeRecords, textsOf, type SinkResult } from "./sink.js";
import { appendSqlite, type SqliteConnection } from "./sqlite-append.js";
import { applySqliteSettings } from "./sqlite-settings.js";

/** What a batch asks of the thread; the sink adds the id it answers under. */
export type ThreadTask = { op: "append"; bytes: Uint8Array; lengths: number[] } | { op: "outcomes"; rows: OutcomeValue[] };
export type ThreadRequest = (ThreadTask & { id: number }) | { op: "stop" };

export type ThreadReply = { id: number; ok: true; result?: SinkResult } | { id: number; ok: false; error: string };

export interface ThreadData {
  file: string;
}

type Database = SqliteConnection & { pragma(s: string): unknown; close(): void };
const open = createRequire(import.meta.url)("better-sqlite3") as new (file: string, opts: { timeout: number; fileMustExist: boolean }) => Database;

const port = parentPort!;
const { file } = workerData as ThreadData;
const cache = new Interning();
let db: Database | undefined;

/** Opened at the first request, with the settings the gateway's own connection has (sqlite-settings.ts). */
function connection(): Database {
  if (!db) {
    // The gateway created and migrated the file: a missing one is an error to report, not a database to create.
    const d = new open(file, { timeout: 5000, fileMustExist: true });
    applySqliteSettings(d);
    db = d;
  }
  return db;
}

function append(texts: string[]): SinkResult {
  const { records, invalid } = decodeRecords(texts);
  if (records.length === 0) return { inserted: 0, skipped: 0, invalid };
  const learned = Interning.learning();
  const r = appendSqlite(connection(), records, cache, learned);
  // Only ids from a committed transaction may be cached.
  cache.commit(learned);
  return { ...r, invalid };
}

port.on("message", (m: ThreadRequest) => {
  if (m.op === "stop") {
    db?.close();
    port.close();
    return;
  }
  let reply: ThreadReply;
  try {
    if (m.op === "append") reply = { id: m.id, ok: true, result: append(textsOf(m.bytes, m.lengths)) };
    else {
      insertOutcomesSqlite(connection(), m.rows);
      reply = { id: m.id, ok: true };
    }
  } catch (err) {
    // A failed connection may stay broken (the file replaced, a disk error): the next request opens it afresh.
    try {
      db?.close();
    } catch {
      // Closing a broken connection may fail too; it is dropped either way.
    }
    db = undefined;
    reply = { id: m.id, ok: false, error: err instanceof Error ? err.message : String(err) };
  }
  port.postMessage(reply);
});
