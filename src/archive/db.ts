/**
 * Opens the database the archive (and the core's persistent state) live in.
 * SQLite through better-sqlite3 by default, PostgreSQL through pg when the URL
 * says so. Dialect differences are normalized in the data layers above.
 */
import { dirname, isAbsolute, resolve } from "node:path";
import knexFactory, { type Knex } from "knex";
import { DemarcError } from "../errors.js";
import { migrationSource } from "./migrations/index.js";
import { makePrivateDir, touchPrivateFile } from "./file-modes.js";
import type { SqliteConnection } from "./sqlite-append.js";
import { applySqliteSettings } from "./sqlite-settings.js";

export type Db = Knex;

export interface DbTarget {
  client: "better-sqlite3" | "pg";
  /** For display and logs: credentials removed. */
  display: string;
  connection: string | { filename: string };
  /** PostgreSQL only: the schema the URL names (?schema=NAME). */
  schema?: string | undefined;
}

const SCHEMA_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/**
 * Takes demarc's own `schema` parameter off a PostgreSQL URL; the rest
 * (sslmode, options, ...) goes to the driver untouched.
 */
function splitSchema(url: string): { url: string; schema: string | undefined } {
  const q = url.indexOf("?");
  if (q < 0) return { url, schema: undefined };
  const params = new URLSearchParams(url.slice(q + 1));
  const schema = params.get("schema");
  if (schema === null) return { url, schema: undefined };
  if (params.getAll("schema").length > 1 || !SCHEMA_NAME.test(schema)) {
    throw new DemarcError("E_DB_SCHEMA", { schema });
  }
  params.delete("schema");
  const rest = params.toString();
  return { url: rest ? `${url.slice(0, q)}?${rest}` : url.slice(0, q), schema };
}

/**
 * A URL for messages and logs, its whole password replaced by ***. The
 * password may hold '@', ':' or '/' unencoded (pg accepts that), so the host
 * starts after the last '@' before the query, not the first.
 */
export function maskUrl(url: string): string {
  const scheme = url.indexOf("://");
  if (scheme < 0) return url;
  const rest = url.slice(scheme + 3);
  const q = rest.indexOf("?");
  const at = (q >= 0 ? rest.slice(0, q) : rest).lastIndexOf("@");
  if (at < 0) return url;
  const userinfo = rest.slice(0, at);
  const colon = userinfo.indexOf(":");
  const user = colon >= 0 ? userinfo.slice(0, colon) : userinfo;
  return `${url.slice(0, scheme + 3)}${colon >= 0 ? `${user}:***` : user}@${rest.slice(at + 1)}`;
}

/**
 * sqlite:PATH (relative to dataDir), sqlite::memory:, or
 * postgres(ql)://...[?schema=NAME]. The schema lets several deployments, or
 * test runs, share one database; the gateway and every CLI command that reads
 * the config then work in it.
 */
export function parseDbUrl(url: string, dataDir: string): DbTarget {
  if (url.startsWith("postgres://") || url.startsWith("postgresql://")) {
    const { url: conn, schema } = splitSchema(url);
    return { client: "pg", connection: conn, display: maskUrl(url), schema };
  }
  if (url.startsWith("sqlite:")) {
    const p = url.slice("sqlite:".length);
    const filename = p === ":memory:" ? p : isAbsolute(p) ? p : resolve(dataDir, p);
    return { client: "better-sqlite3", connection: { filename }, display: `sqlite:${filename}` };
  }
  throw new DemarcError("E_DB_URL", { url: maskUrl(url) });
}

export interface OpenOptions {
  /**
   * PostgreSQL only: the schema to work in (knex searchPath), created if
   * missing. Overrides the URL's ?schema=.
   */
  schema?: string | undefined;
  /**
   * Called before each new attempt while the database does not answer; the
   * attempts go on until timeoutS has passed (a database that starts beside
   * the gateway, as in a container, needs a few seconds).
   */
  onRetry?: (problem: string, attempt: number) => void;
}

const RETRY_FIRST_MS = 250;
const RETRY_MAX_MS = 2_000;

/** `select 1` until it answers or the deadline passes, backing off between tries. */
async function firstContact(db: Db, deadline: number, onRetry?: OpenOptions["onRetry"]): Promise<void> {
  let wait = RETRY_FIRST_MS;
  for (let attempt = 1; ; attempt++) {
    try {
      await db.raw("select 1");
      return;
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      const left = deadline - Date.now();
      if (left <= 0) throw err;
      onRetry?.(e.code ?? e.message.split("\n")[0]!, attempt);
      await new Promise((r) => setTimeout(r, Math.min(wait, left)));
      wait = Math.min(wait * 2, RETRY_MAX_MS);
    }
  }
}

interface SqliteHandle {
  pragma(s: string): void;
  prepare(sql: string): unknown;
}

/**
 * knex opens SQLite transactions with a plain (deferred) BEGIN. The archive
 * writer's thread writes to the same file on a connection of its own
 * (append-worker.ts), and a deferred transaction that read before it writes
 * fails at once with SQLITE_BUSY if that thread committed in between: no busy
 * wait helps a snapshot that is out of date. BEGIN IMMEDIATE takes the write
 * lock first, waiting its turn, so such a transaction (the core's offline
 * store, for one) never fails that way. knex runs every statement through
 * prepare, and its transactions start with exactly "BEGIN;".
 */
function beginImmediate(conn: SqliteHandle): void {
  const prepare = conn.prepare.bind(conn);
  conn.prepare = (sql: string) => prepare(sql === "BEGIN;" ? "BEGIN IMMEDIATE;" : sql);
}

/** Runs fn on the gateway's SQLite connection (better-sqlite3 itself, for prepared statements knex does not keep). */
export async function withSqliteConnection<T>(db: Db, fn: (conn: SqliteConnection) => T): Promise<T> {
  const client = db.client as { acquireConnection(): Promise<SqliteConnection>; releaseConnection(c: unknown): Promise<void> };
  const conn = await client.acquireConnection();
  try {
    return fn(conn);
  } finally {
    await client.releaseConnection(conn);
  }
}

export async function openDatabase(url: string, dataDir: string, timeoutS = 10, opts: OpenOptions = {}): Promise<Db> {
  const target = parseDbUrl(url, dataDir);
  const schema = opts.schema ?? target.schema;
  if (target.client === "better-sqlite3" && typeof target.connection === "object" && target.connection.filename !== ":memory:") {
    try {
      makePrivateDir(dirname(target.connection.filename));
      // Created here 0600 so SQLite, which gives its -wal/-shm/-journal the database's mode, never makes them readable by others.
      touchPrivateFile(target.connection.filename);
    } catch (err) {
      throw new DemarcError("E_DB_OPEN", { target: target.display, reason: String((err as NodeJS.ErrnoException).code) });
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
            afterCreate: (conn: SqliteHandle, done: (err: Error | null, c: unknown) => void) => {
              applySqliteSettings(conn);
              beginImmediate(conn);
              done(null, conn);
            },
          }
        : { min: 0, max: 10 },
    acquireConnectionTimeout: timeoutS * 1000,
    // knex would print every failed connect to the console; the callers report database failures through the logger.
    log: { warn: () => undefined, error: () => undefined, deprecate: () => undefined, debug: () => undefined },
    ...(target.client === "pg" && schema ? { searchPath: [schema] } : {}),
  });
  try {
    await firstContact(db, Date.now() + timeoutS * 1000, opts.onRetry);
    if (target.client === "pg" && schema) await db.raw("create schema if not exists ??", [schema]);
  } catch (err) {
    await db.destroy().catch(() => undefined);
    const e = err as NodeJS.ErrnoException;
    throw new DemarcError("E_DB_UNREACHABLE", { target: target.display, seconds: timeoutS, reason: e.code ?? e.message.split("\n")[0]! });
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
