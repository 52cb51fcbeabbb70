/**
 * Archive ingest and size, printed as figures:
 *  - ingest rate through the full write path (journal group commit, writer,
 *    hash chain, interning, indexes, full text) into SQLite and PostgreSQL,
 *    beside plain multi-row INSERTs of the same rows into the same schema
 *    (indexes, full text), measured in the same run;
 *  - stored bytes per message, indexes and full text included, against the
 *    seed's formula of 600 + 3 x characters.
 * PostgreSQL runs when DEMARC_BENCH_PG_URL or DEMARC_TEST_PG_URL is set, in a
 * schema of its own that is dropped afterwards.
 *
 *   npx tsx bench/archive.ts            (ARCHIVE_BENCH_N=20000 by default)
 */
import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { ArchiveService } from "../src/archive/archiver.js";
import { migrate, openDatabase, type Db } from "../src/archive/db.js";
import { KnexArchiveStore } from "../src/archive/knex-store.js";
import { chainHash, GENESIS, toRecord, type ArchiveRecord } from "../src/archive/record.js";
import type { Envelope } from "../src/model/envelope.js";
import type { Decision } from "../src/model/route.js";

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
  // Many streams append at once in a gateway: keep WINDOW records in flight, as their lanes would.
  const WINDOW = 5000;
  const inFlight = new Set<Promise<void>>();
  for (const m of msgs) {
    const p: Promise<void> = svc.record(m.env, m.decision).finally(() => inFlight.delete(p));
    inFlight.add(p);
    if (inFlight.size >= WINDOW) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
  const journaled = performance.now();
  while (svc.journal.pendingRecords > 0) await new Promise((r) => setTimeout(r, 2));
  const t1 = performance.now();
  await svc.close(1000);
  rmSync(dir, { recursive: true, force: true });
  console.log(`    journal (group commit, fsync): ${Math.round(msgs.length / ((journaled - t0) / 1000))} msg/s`);
  return msgs.length / ((t1 - t0) / 1000);
}

/**
 * The baseline: the same rows (party and context ids, seq and hash chain
 * worked out beforehand, untimed) as plain multi-row INSERTs of 500 rows, one
 * transaction per 1,000, into a fresh copy of the same schema with its
 * indexes and full text, on the same database.
 */
async function plainRate(openFresh: () => Promise<{ db: Db; done: () => Promise<void> }>, recs: ArchiveRecord[]): Promise<number> {
  const { db, done } = await openFresh();
  try {
    const parties = new Map<string, number>();
    const contexts = new Map<string, number>();
    for (const r of recs) for (const a of [r.from, r.to, r.partner]) if (a !== null && !parties.has(a)) parties.set(a, parties.size + 1);
    for (const r of recs) contexts.set(ctxKey(r), contexts.get(ctxKey(r)) ?? contexts.size + 1);
    for (const [address, id] of parties) await db("archive_party").insert({ id, address, bare: address.split("/")[0], domain: address.split("@").pop()!.split("/")[0] });
    const first = new Map<string, ArchiveRecord>();
    for (const r of recs) if (!first.has(ctxKey(r))) first.set(ctxKey(r), r);
    for (const [digest, id] of contexts) {
      const r = first.get(digest)!;
      await db("archive_context").insert({ id, digest, policy_version: r.policyVersion, tls_version: r.tlsVersion, auth: r.auth, cert_fingerprint: r.certFingerprint, verdicts: r.verdicts });
    }
    let prev: Buffer = GENESIS;
    const rows = recs.map((r, i) => {
      prev = chainHash(prev, i + 1, r);
      return {
        seq: i + 1, rid: Buffer.from(r.rid, "hex"), msg_id: r.msgId, ts: r.ts, direction: r.direction, protocol: r.protocol, kind: r.kind, type: r.type,
        from_id: parties.get(r.from), to_id: parties.get(r.to), partner_id: r.partner === null ? null : parties.get(r.partner),
        thread: r.thread, subject: r.subject, body: r.body, delivered_body: r.deliveredBody, verdict: r.verdict, rule_id: r.ruleId,
        context_id: contexts.get(ctxKey(r)), hash: prev as Buffer,
      };
    });
    const t0 = performance.now();
    for (let i = 0; i < rows.length; i += 1000) {
      await db.transaction(async (trx) => {
        for (let k = i; k < Math.min(i + 1000, rows.length); k += 500) await trx("archive_message").insert(rows.slice(k, Math.min(k + 500, i + 1000)));
      });
    }
    return rows.length / ((performance.now() - t0) / 1000);
  } finally {
    await done();
  }
}

/** The archive's context key (knex-store.ts): the same digest, so the same number of contexts. */
function ctxKey(r: ArchiveRecord): string {
  return createHash("sha256").update(JSON.stringify([r.policyVersion, r.tlsVersion, r.auth, r.certFingerprint, r.verdicts])).digest("hex");
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
  console.log(`    plain multi-row INSERT of the same rows, same schema: ${Math.round(plain)} msg/s   (archive/plain ratio ${(archive / plain).toFixed(2)})`);
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
  const p = await plainRate(async () => {
    const fresh = await openDatabase("sqlite:plain.db", dir);
    await migrate(fresh);
    return { db: fresh, done: () => fresh.destroy() };
  }, recs);
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
    const p = await plainRate(async () => {
      const plainSchema = `${schema}_plain`;
      const fresh = await openDatabase(PG, tmpdir(), 5, { schema: plainSchema });
      await migrate(fresh);
      return {
        db: fresh,
        done: async () => {
          await fresh.raw("drop schema if exists ?? cascade", [plainSchema]);
          await fresh.destroy();
        },
      };
    }, recs);
    report("pg", a, p, await pgBytes(db, schema), chars);
  } finally {
    await db.raw("drop schema if exists ?? cascade", [schema]);
    await db.destroy();
  }
} else {
  console.log("PostgreSQL: skipped (set DEMARC_BENCH_PG_URL or DEMARC_TEST_PG_URL)");
}
