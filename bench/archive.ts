/**
 * Archive ingest and size, printed as figures:
 *  - ingest rate through the full write path (journal group commit, writer,
 *    hash chain, interning, indexes, full text) into SQLite and PostgreSQL,
 *    beside a plain multi-row INSERT of the same rows into an unindexed table
 *    measured in the same run;
 *  - stored bytes per message, indexes and full text included, against the
 *    seed's formula of 600 + 3 x characters.
 * PostgreSQL runs when DEMARC_BENCH_PG_URL or DEMARC_TEST_PG_URL is set, in a
 * schema of its own that is dropped afterwards.
 *
 *   npx tsx bench/archive.ts            (ARCHIVE_BENCH_N=20000 by default)
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { ArchiveService } from "../src/archive/archiver.js";
import { migrate, openDatabase, type Db } from "../src/archive/db.js";
import { KnexArchiveStore } from "../src/archive/knex-store.js";
import { toRecord, type ArchiveRecord } from "../src/archive/record.js";
import type { Envelope } from "../src/model/envelope.js";
import type { Decision } from "../src/pipeline/types.js";

const N = Number(process.env.ARCHIVE_BENCH_N ?? 20_000);
const PG = process.env.DEMARC_BENCH_PG_URL ?? process.env.DEMARC_TEST_PG_URL;
const WORDS = "the a deal merger budget call meeting tomorrow please review attached numbers quarter plan ok thanks see you soon project launch".split(" ");

function message(i: number): { env: Envelope; decision: Decision } {
  const words = 6 + (i % 25);
  const body = Array.from({ length: words }, (_, k) => WORDS[(i * 7 + k * 13) % WORDS.length]).join(" ");
  const env: Envelope = {
    id: `bench-${i}-${randomBytes(4).toString("hex")}`,
    receivedAt: Date.UTC(2024, 0, 1) + i * 250,
    direction: i % 2 ? "inbound" : "outbound",
    protocol: "xmpp",
    kind: "message",
    type: "chat",
    from: `user${i % 200}@partner${i % 10}.example/res`,
    to: `staff${i % 300}@corp.example`,
    partnerDomain: `partner${i % 10}.example`,
    thread: i % 3 ? `thread-${i % 500}` : undefined,
    body,
    security: { tlsVersion: "TLSv1.3", auth: i % 4 ? "certificate" : "dialback", certFingerprint: i % 4 ? `AA:BB:${i % 10}` : undefined },
  };
  return { env, decision: { deliver: true, envelope: env, policyVersion: "sha256:0f3c", verdicts: [] } };
}

async function archiveRate(db: Db, msgs: ReturnType<typeof message>[]): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), "demarc-bench-journal-"));
  const svc = await ArchiveService.open(new KnexArchiveStore(db), {
    journal: { dir, budgetBytes: 1 << 30, segmentBytes: 16 << 20, commitDelayMs: 2 },
    batch: 1000, retryMaxMs: 500, onJournalFailure: "refuse", kinds: ["message"], log: pino({ level: "silent" }),
  });
  const t0 = performance.now();
  for (let i = 0; i < msgs.length; i += 1000) {
    await Promise.all(msgs.slice(i, i + 1000).map((m) => svc.record(m.env, m.decision)));
  }
  const journaled = performance.now();
  while (svc.journal.pendingRecords > 0) await new Promise((r) => setTimeout(r, 2));
  const t1 = performance.now();
  await svc.close(1000);
  rmSync(dir, { recursive: true, force: true });
  console.log(`    journal (group commit, fsync): ${Math.round(msgs.length / ((journaled - t0) / 1000))} msg/s`);
  return msgs.length / ((t1 - t0) / 1000);
}

async function plainRate(db: Db, recs: ArchiveRecord[]): Promise<number> {
  await db.schema.dropTableIfExists("bench_plain");
  await db.schema.createTable("bench_plain", (t) => {
    for (const c of ["rid", "msg_id", "direction", "protocol", "kind", "type", "from", "to", "partner", "thread", "body", "verdict", "policy_version", "tls_version", "auth", "cert_fingerprint"]) t.text(c);
    t.bigInteger("ts");
  });
  const rows = recs.map((r) => ({
    rid: r.rid, msg_id: r.msgId, direction: r.direction, protocol: r.protocol, kind: r.kind, type: r.type, from: r.from, to: r.to,
    partner: r.partner, thread: r.thread, body: r.body, verdict: r.verdict, policy_version: r.policyVersion,
    tls_version: r.tlsVersion, auth: r.auth, cert_fingerprint: r.certFingerprint, ts: r.ts,
  }));
  const t0 = performance.now();
  for (let i = 0; i < rows.length; i += 1000) {
    for (let k = i; k < Math.min(i + 1000, rows.length); k += 100) await db("bench_plain").insert(rows.slice(k, k + 100));
  }
  const t1 = performance.now();
  await db.schema.dropTable("bench_plain");
  return rows.length / ((t1 - t0) / 1000);
}

type Sizes = { all: number; noFts: number; parts: [string, number][] };

async function sqliteBytes(db: Db): Promise<Sizes> {
  const rows = (await db.raw("select name, sum(pgsize) as bytes from dbstat group by name")) as { name: string; bytes: number }[];
  let all = 0;
  let fts = 0;
  const parts: [string, number][] = [];
  for (const r of rows) {
    if (!/archive_(message|party|context|fts)|sqlite_autoindex_archive_(message|party|context)/.test(r.name)) continue;
    all += r.bytes;
    parts.push([r.name, r.bytes]);
    if (r.name.startsWith("archive_fts")) fts += r.bytes;
  }
  return { all, noFts: all - fts, parts };
}

async function pgBytes(db: Db, schema: string): Promise<Sizes> {
  await db.raw("vacuum analyze archive_message");
  // Tables with their indexes and TOAST, as pg_total_relation_size counts them.
  const rels = await db.raw(
    `select c.relname as name, pg_relation_size(c.oid)::bigint as b from pg_class c join pg_namespace n on n.oid = c.relnamespace
     where n.nspname = ? and c.relname in ('archive_message', 'archive_party', 'archive_context')
     union all
     select i.indexrelid::regclass::text, pg_relation_size(i.indexrelid)::bigint from pg_index i
     join pg_class c on c.oid = i.indrelid join pg_namespace n on n.oid = c.relnamespace
     where n.nspname = ? and c.relname in ('archive_message', 'archive_party', 'archive_context')
     union all
     select 'toast', coalesce(sum(pg_total_relation_size(c.reltoastrelid)), 0)::bigint from pg_class c join pg_namespace n on n.oid = c.relnamespace
     where n.nspname = ? and c.relname in ('archive_message', 'archive_party', 'archive_context') and c.reltoastrelid <> 0`,
    [schema, schema, schema],
  );
  const parts = (rels.rows as { name: string; b: string }[]).map((r) => [r.name.replace(`${schema}.`, ""), Number(r.b)] as [string, number]);
  const all = parts.reduce((n, [, b]) => n + b, 0);
  const fts = parts.find(([name]) => name === "archive_message_fts")?.[1] ?? 0;
  return { all, noFts: all - fts, parts };
}

function report(name: string, archive: number, plain: number, bytes: Sizes, chars: number): void {
  const seed = 600 + 3 * chars;
  console.log(`    full archive write path: ${Math.round(archive)} msg/s`);
  console.log(`    plain multi-row INSERT:  ${Math.round(plain)} msg/s   (archive/plain ratio ${(archive / plain).toFixed(2)})`);
  console.log(`    stored bytes/message: ${Math.round(bytes.all / N)} with full text index, ${Math.round(bytes.noFts / N)} without`);
  console.log(`    seed formula 600 + 3 x ${chars.toFixed(0)} chars = ${seed.toFixed(0)} bytes: archive uses ${((100 * bytes.all) / N / seed).toFixed(0)}% of it`);
  const big = bytes.parts.filter(([, b]) => b / N >= 1).sort((a, b) => b[1] - a[1]);
  console.log(`    per message: ${big.map(([n, b]) => `${n} ${(b / N).toFixed(0)}`).join(", ")}`);
  void name;
}

const msgs = Array.from({ length: N }, (_, i) => message(i));
const recs = msgs.map((m) => toRecord(m.env, m.decision));
const chars = msgs.reduce((n, m) => n + (m.env.body?.length ?? 0), 0) / N;
console.log(`archive bench: ${N} messages, average body ${chars.toFixed(1)} characters`);

{
  const dir = mkdtempSync(join(tmpdir(), "demarc-bench-"));
  const db = await openDatabase("sqlite:archive.db", dir);
  await migrate(db);
  console.log("SQLite (better-sqlite3, WAL):");
  const a = await archiveRate(db, msgs);
  const p = await plainRate(db, recs);
  report("sqlite", a, p, await sqliteBytes(db), chars);
  await db.destroy();
  rmSync(dir, { recursive: true, force: true });
}

if (PG) {
  const schema = `bench_archive_${process.pid}`;
  const db = await openDatabase(PG, tmpdir(), 5, { schema });
  try {
    await migrate(db);
    console.log("PostgreSQL (pg):");
    const a = await archiveRate(db, msgs);
    const p = await plainRate(db, recs);
    report("pg", a, p, await pgBytes(db, schema), chars);
  } finally {
    await db.raw("drop schema if exists ?? cascade", [schema]);
    await db.destroy();
  }
} else {
  console.log("PostgreSQL: skipped (set DEMARC_BENCH_PG_URL or DEMARC_TEST_PG_URL)");
}
