/**
 * Opens the database the archive (and the core's persistent state) live in.
 * SQLite through better-sqlite3 by default, PostgreSQL through pg when the URL
 * says so. Dialect differences are normalized in the data layers above.
 */
import { mkdirSync } from "node:fs";
import { dirname, isAbsolute, resolve } from "node:path";
import knexFactory, { type Knex } from "knex";
import { UnavailableError } from "../errors.js";
import { migrationSource } from "./migrations/index.js";

export type Db = Knex;

export interface DbTarget {
  client: "better-sqlite3" | "pg";
  /** For display and logs: credentials removed. */
  display: string;
  connection: string | { filename: string };
}

/** sqlite:PATH (relative to dataDir), sqlite::memory:, or postgres(ql)://... */
export function parseDbUrl(url: string, dataDir: string): DbTarget {
  if (url.startsWith("postgres://") || url.startsWith("postgresql://")) {
    return { client: "pg", connection: url, display: url.replace(/\/\/([^@/]*)@/, "//***@") };
  }
  if (url.startsWith("sqlite:")) {
    const p = url.slice("sqlite:".length);
    const filename = p === ":memory:" ? p : isAbsolute(p) ? p : resolve(dataDir, p);
    return { client: "better-sqlite3", connection: { filename }, display: `sqlite:${filename}` };
  }
  throw new UnavailableError("E_DB_URL", `archive.url "${url}" is neither sqlite:PATH nor postgres://...`);
}

export interface OpenOptions {
  /**
   * PostgreSQL only: the schema to work in (knex searchPath), created if
   * missing. Lets several deployments, or test runs, share one database.
   */
  schema?: string | undefined;
}

export async function openDatabase(url: string, dataDir: string, timeoutS = 10, opts: OpenOptions = {}): Promise<Db> {
  const target = parseDbUrl(url, dataDir);
  if (target.client === "better-sqlite3" && typeof target.connection === "object" && target.connection.filename !== ":memory:") {
    try {
      mkdirSync(dirname(target.connection.filename), { recursive: true });
    } catch (err) {
      throw new UnavailableError("E_DB_OPEN", `archive database ${target.display}: cannot create its folder (${(err as NodeJS.ErrnoException).code})`);
    }
  }
  const db = knexFactory({
    client: target.client,
    connection: target.client === "pg"
      ? { connectionString: target.connection as string, connectionTimeoutMillis: timeoutS * 1000 }
      : target.connection,
    useNullAsDefault: target.client === "better-sqlite3",
    pool:
      target.client === "better-sqlite3"
        ? {
            min: 1,
            max: 1,
            // WAL lets readers (search, export) run beside the writer.
            afterCreate: (conn: { pragma: (s: string) => void }, done: (err: Error | null, c: unknown) => void) => {
              conn.pragma("journal_mode = WAL");
              conn.pragma("synchronous = NORMAL");
              conn.pragma("foreign_keys = ON");
              done(null, conn);
            },
          }
        : { min: 0, max: 10 },
    acquireConnectionTimeout: timeoutS * 1000,
    // knex would print every failed connect to the console; the callers report database failures through the logger.
    log: { warn: () => undefined, error: () => undefined, deprecate: () => undefined, debug: () => undefined },
    ...(target.client === "pg" && opts.schema ? { searchPath: [opts.schema] } : {}),
  });
  try {
    await db.raw("select 1");
    if (target.client === "pg" && opts.schema) await db.raw("create schema if not exists ??", [opts.schema]);
  } catch (err) {
    await db.destroy().catch(() => undefined);
    const e = err as NodeJS.ErrnoException;
    throw new UnavailableError("E_DB_UNREACHABLE", `archive database ${target.display} is unreachable: ${e.code ?? e.message.split("\n")[0]}`);
  }
  return db;
}

export async function migrate(db: Db): Promise<string[]> {
  const [, applied] = (await db.migrate.latest({ migrationSource })) as [number, string[]];
  return applied;
}

export function isPostgres(db: Db): boolean {
  return db.client.config.client === "pg";
}
