/**
 * The settings every connection to the archive's SQLite file runs with: the
 * gateway's own (db.ts) and the writer thread's (append-thread.ts), which
 * share the file. WAL lets readers (search, export) and the other connection
 * run beside a writer.
 */
export function applySqliteSettings(conn: { pragma(s: string): unknown }): void {
  conn.pragma("journal_mode = WAL");
  conn.pragma("synchronous = NORMAL");
  conn.pragma("foreign_keys = ON");
}
