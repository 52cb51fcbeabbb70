/**
 * The gateway's archive sink for its database (see sink.ts): a worker thread
 * over a SQLite file; the store on this thread for PostgreSQL and for SQLite
 * :memory: (a second connection would open another, empty, database).
 */
import type { Logger } from "../log.js";
import { WorkerSink } from "./append-worker.js";
import { isPostgres, withSqliteConnection, type Db } from "./db.js";
import { flattenOutcomes, insertOutcomesPg, insertOutcomesSqlite } from "./outcome-rows.js";
import { storeSink, type ArchiveSink } from "./sink.js";
import type { ArchiveStore } from "./store.js";

export function openSink(db: Db, store: ArchiveStore, log: Logger): ArchiveSink {
  if (isPostgres(db)) return storeSink(store, (entries) => insertOutcomesPg(db, entries));
  const file = (db.client.config as { connection?: { filename?: string } }).connection?.filename;
  if (file && file !== ":memory:") return new WorkerSink(file, log);
  return storeSink(store, (entries) => withSqliteConnection(db, (conn) => insertOutcomesSqlite(conn, flattenOutcomes(entries))));
}
