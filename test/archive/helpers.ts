/**
 * Shared fixtures for the archive tests: envelopes, decisions, and databases
 * on both back ends. PostgreSQL tests each get their own schema in the shared
 * database (dropped afterwards); DEMARC_TEST_PG_URL unset skips them with a
 * visible reason, set but unreachable fails them.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { migrate, openDatabase, type Db } from "../../src/archive/db.js";
import type { Envelope } from "../../src/model/envelope.js";
import type { Decision } from "../../src/model/route.js";

export const PG_URL = process.env.DEMARC_TEST_PG_URL || undefined;
export const PG_SKIP_REASON = "DEMARC_TEST_PG_URL is not set: PostgreSQL back end not tested";

export const silentLog = pino({ level: "silent" });

export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), "demarc-archive-"));
}

export interface TestDb {
  db: Db;
  dir: string;
  close(): Promise<void>;
}

export async function openSqlite(): Promise<TestDb> {
  const dir = tempDir();
  const db = await openDatabase("sqlite:archive.db", dir);
  await migrate(db);
  return { db, dir, close: () => db.destroy() };
}

export function uniqueSchema(): string {
  return `t_archive_${process.pid}_${randomBytes(4).toString("hex")}`;
}

export async function openPg(url = PG_URL!, schema = uniqueSchema()): Promise<TestDb & { schema: string }> {
  const db = await openDatabase(url, tmpdir(), 5, { schema });
  await migrate(db);
  return {
    db,
    dir: tempDir(),
    schema,
    close: async () => {
      await db.raw("drop schema if exists ?? cascade", [schema]);
      await db.destroy();
    },
  };
}

let n = 0;
export function envelope(over: Partial<Envelope> = {}): Envelope {
  n++;
  return {
    id: `m${n}-${randomBytes(3).toString("hex")}`,
    receivedAt: Date.UTC(2024, 0, 1) + n * 1000,
    direction: "inbound",
    protocol: "xmpp",
    kind: "message",
    from: "alice@partner.example/phone",
    to: "bob@corp.test",
    partnerDomain: "partner.example",
    type: "chat",
    body: `hello number ${n}`,
    security: { tlsVersion: "TLSv1.3", auth: "certificate", certFingerprint: "AB:CD:EF" },
    ...over,
  };
}

export function allow(env: Envelope, over: Partial<Decision> = {}): Decision {
  return { deliver: true, envelope: env, policyVersion: "pv1", verdicts: [], ...over };
}

/** Opens (and migrates) the SQLite archive a CLI test's gateway uses under dataDir, for `fn` only. */
export async function withArchiveDb<T>(dataDir: string, fn: (db: Db) => Promise<T>): Promise<T> {
  const db = await openDatabase("sqlite:archive.db", dataDir);
  try {
    await migrate(db);
    return await fn(db);
  } finally {
    await db.destroy();
  }
}
