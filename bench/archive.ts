/**
 * Archive ingest and size, printed as figures:
 *  - ingest rate through the full write path (records made from envelopes,
 *    journal group commit with fsync, writer and the gateway's sink, a
 *    thread of its own on SQLite, hash chain, interning, indexes, full text) into SQLite and PostgreSQL, beside plain multi-row INSERTs of
 *    the same rows into the same schema (indexes, full text; ids and hash
 *    chain worked out beforehand, untimed), with transactions of the writer's
 *    batch size, measured in the same run;
 *  - stored bytes per message, indexes and full text included, against the
 *    seed's formula of 600 + 3 x characters.
 * Each repetition writes into fresh databases, archive and plain in
 * alternating order, after one warm-up repetition; the median ratio and its
 * spread are printed. PostgreSQL runs when DEMARC_BENCH_PG_URL or
 * DEMARC_TEST_PG_URL is set, in schemas of its own that are dropped afterwards.
 *
 *   npx tsx bench/archive.ts
 *   ARCHIVE_BENCH_N=20000 ARCHIVE_BENCH_REPS=5 ARCHIVE_BENCH_BATCH=500 (the defaults; the batch is archive.writer.batch's default)
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { ArchiveService } from "../src/archive/archiver.js";
import { migrate, openDatabase, type Db } from "../src/archive/db.js";
import { Interning } from "../src/archive/interning.js";
import { KnexArchiveStore } from "../src/archive/knex-store.js";
import { openSink } from "../src/archive/open-sink.js";
import { chainHash, GENESIS, toRecord, type ArchiveRecord } from "../src/archive/record.js";
import type { Envelope } from "../src/model/envelope.js";
import type { Decision } from "../src/model/route.js";

const N = Number(process.env.ARCHIVE_BENCH_N ?? 20_000);
const REPS = Number(process.env.ARCHIVE_BENCH_REPS ?? 5);
const BATCH = Number(process.env.ARCHIVE_BENCH_BATCH ?? 500);
const WARMUP_N = Math.min(N, 5_000);
/** Rows per plain INSERT statement. */
const PLAIN_ROWS = Math.min(BATCH, 500);
/** Records in flight at once, as many streams' lanes would keep them. */
const WINDOW = 5_000;
const PG = process.env.DEMARC_BENCH_PG_URL ?? process.env.DEMARC_TEST_PG_URL;
const WORDS = "the a deal merger budget call meeting tomorrow please review attached numbers quarter plan ok thanks see you soon project launch".split(" ");

type Message = { env: Envelope; decision: Decision };

function message(i: number): Message {
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

interface ArchiveRun {
  rate: number;
  /** CPU this process spent per message (microseconds), its threads included: all of it on SQLite, the client's share on PostgreSQL. */
  cpuUs: number;
  journalRate: number;
  /** Records per batch the writer handed the sink. */
  batches: number[];
}

/** The gateway's path: ArchiveService.record for every message, timed until the writer stored the last one. */
async function archiveRate(db: Db, msgs: Message[]): Promise<ArchiveRun> {
  const dir = mkdtempSync(join(tmpdir(), "demarc-bench-journal-"));
  const batches: number[] = [];
  // The gateway's sink for this database (a writer thread over a SQLite file), counting the batches it is handed.
  const store = new KnexArchiveStore(db);
  const sink = openSink(db, store, pino({ level: "silent" }));
  const append = sink.append.bind(sink);
  sink.append = (entries) => (batches.push(entries.length), append(entries));
  const svc = await ArchiveService.open(store, {
    journal: { dir, budgetBytes: 1 << 30, segmentBytes: 16 << 20, commitDelayMs: 2 },
    batch: BATCH, retryMaxMs: 500, onJournalFailure: "refuse", kinds: () => ["message"], sink, log: pino({ level: "silent" }),
  });
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  // A counted window (not Promise.race over the set, whose cost grows with the window and would be charged to the archive).
  let inFlight = 0;
  let failed: Error | undefined;
  let room: (() => void) | undefined;
  const settle = () => {
    inFlight--;
    room?.();
  };
  for (const m of msgs) {
    inFlight++;
    svc.record(m.env, m.decision).then(settle, (err: Error) => ((failed = err), settle()));
    while (inFlight >= WINDOW) await new Promise<void>((r) => (room = r));
  }
  while (inFlight > 0) await new Promise<void>((r) => (room = r));
  if (failed) throw failed;
  const journaled = performance.now();
  while (svc.journal.pendingRecords > 0) await new Promise((r) => setTimeout(r, 1));
  const t1 = performance.now();
  const cpu = process.cpuUsage(c0);
  await svc.close(1000);
  rmSync(dir, { recursive: true, force: true });
  return { rate: msgs.length / ((t1 - t0) / 1000), cpuUs: (cpu.user + cpu.system) / msgs.length, journalRate: msgs.length / ((journaled - t0) / 1000), batches };
}

/** The archive's rows worked out beforehand: interned ids, seq and hash chain. */
async function plainRows(db: Db, recs: ArchiveRecord[]): Promise<Record<string, unknown>[]> {
  const interning = new Interning();
  const parties = new Map<string, number>();
  const contexts = new Map<string, number>();
  for (const r of recs) for (const a of [r.from, r.to, r.partner]) if (a !== null && !parties.has(a)) parties.set(a, parties.size + 1);
  const first = new Map<string, ArchiveRecord>();
  for (const r of recs) {
    const key = interning.contextKey(r);
    if (!contexts.has(key)) (contexts.set(key, contexts.size + 1), first.set(key, r));
  }
  for (const [address, id] of parties) await db("archive_party").insert({ id, address, bare: address.split("/")[0], domain: address.split("@").pop()!.split("/")[0] });
  for (const [digest, id] of contexts) {
    const r = first.get(digest)!;
    await db("archive_context").insert({ id, digest, policy_version: r.policyVersion, tls_version: r.tlsVersion, auth: r.auth, cert_fingerprint: r.certFingerprint, verdicts: r.verdicts });
  }
  let prev: Buffer = GENESIS;
  return recs.map((r, i) => {
    prev = chainHash(prev, i + 1, r);
    return {
      seq: i + 1, rid: Buffer.from(r.rid, "hex"), msg_id: r.msgId, ts: r.ts, direction: r.direction, protocol: r.protocol, kind: r.kind, type: r.type,
      from_id: parties.get(r.from), to_id: parties.get(r.to), partner_id: r.partner === null ? null : parties.get(r.partner),
      thread: r.thread, subject: r.subject, body: r.body, delivered_body: r.deliveredBody, content: r.content ?? null, verdict: r.verdict, rule_id: r.ruleId,
      context_id: contexts.get(interning.contextKey(r)), hash: prev,
    };
  });
}

/**
 * The baseline: the same rows as plain multi-row INSERTs of PLAIN_ROWS rows,
 * one transaction per BATCH, into a fresh copy of the same schema with its
 * indexes and full text, on the same database.
 */
async function plainRate(db: Db, recs: ArchiveRecord[]): Promise<{ rate: number; cpuUs: number }> {
  const rows = await plainRows(db, recs);
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < rows.length; i += BATCH) {
    const end = Math.min(i + BATCH, rows.length);
    await db.transaction(async (trx) => {
      for (let k = i; k < end; k += PLAIN_ROWS) await trx("archive_message").insert(rows.slice(k, Math.min(k + PLAIN_ROWS, end)));
    });
  }
  const t1 = performance.now();
  const cpu = process.cpuUsage(c0);
  return { rate: rows.length / ((t1 - t0) / 1000), cpuUs: (cpu.user + cpu.system) / rows.length };
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

interface Backend {
  name: string;
  /** A fresh, migrated database; `done` drops it. */
  open(tag: string): Promise<{ db: Db; done: () => Promise<void> }>;
  bytes(db: Db, tag: string): Promise<Sizes>;
}

const sqliteDir = mkdtempSync(join(tmpdir(), "demarc-bench-"));
const sqlite: Backend = {
  name: "SQLite (better-sqlite3, WAL)",
  async open(tag) {
    const db = await openDatabase(`sqlite:${tag}.db`, sqliteDir);
    await migrate(db);
    return { db, done: () => db.destroy() };
  },
  bytes: (db) => sqliteBytes(db),
};

function pgBackend(url: string): Backend {
  return {
    name: "PostgreSQL (pg)",
    async open(tag) {
      const schema = `bench_archive_${process.pid}_${tag}`;
      const db = await openDatabase(url, tmpdir(), 5, { schema });
      await migrate(db);
      return {
        db,
        done: async () => {
          await db.raw("drop schema if exists ?? cascade", [schema]);
          await db.destroy();
        },
      };
    },
    bytes: (db, tag) => pgBytes(db, `bench_archive_${process.pid}_${tag}`),
  };
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const fmt = (n: number): string => Math.round(n).toLocaleString("en-US");

/** One repetition: fresh databases for both sides, in the order given; returns the ratio. */
async function repetition(b: Backend, rep: number, msgs: Message[], recs: ArchiveRecord[], label: string, sizes?: (s: Sizes) => void): Promise<number> {
  const a = await b.open(`a${rep}`);
  const p = await b.open(`p${rep}`);
  try {
    let run: ArchiveRun;
    let plain: { rate: number; cpuUs: number };
    if (rep % 2) {
      run = await archiveRate(a.db, msgs);
      plain = await plainRate(p.db, recs);
    } else {
      plain = await plainRate(p.db, recs);
      run = await archiveRate(a.db, msgs);
    }
    const bs = run.batches;
    const ratio = run.rate / plain.rate;
    console.log(`    ${label}: archive ${fmt(run.rate)} msg/s (journal ${fmt(run.journalRate)}), plain ${fmt(plain.rate)} msg/s, ratio ${ratio.toFixed(2)}; ` +
      `CPU here ${run.cpuUs.toFixed(0)} vs ${plain.cpuUs.toFixed(0)} us/msg; writer batches ${bs.length}, median ${median(bs)} records (${Math.min(...bs)}-${Math.max(...bs)})`);
    if (sizes) sizes(await b.bytes(a.db, `a${rep}`));
    return ratio;
  } finally {
    await a.done();
    await p.done();
  }
}

async function measure(b: Backend, msgs: Message[], recs: ArchiveRecord[], chars: number): Promise<void> {
  console.log(`${b.name}:`);
  await repetition(b, 0, msgs.slice(0, WARMUP_N), recs.slice(0, WARMUP_N), `warm-up, ${WARMUP_N} messages (not counted)`);
  const ratios: number[] = [];
  let bytes: Sizes | undefined;
  for (let rep = 1; rep <= REPS; rep++) {
    ratios.push(await repetition(b, rep, msgs, recs, `run ${rep}`, rep === REPS ? (s) => (bytes = s) : undefined));
  }
  console.log(`    load average now ${loadavg().map((l) => l.toFixed(1)).join(" ")}`);
  console.log(`    archive/plain ratio: median ${median(ratios).toFixed(2)}, spread ${Math.min(...ratios).toFixed(2)}-${Math.max(...ratios).toFixed(2)} over ${REPS} runs`);
  if (bytes) sizeReport(bytes, chars);
}

function sizeReport(bytes: Sizes, chars: number): void {
  const seed = 600 + 3 * chars;
  console.log(`    stored bytes/message: ${Math.round(bytes.all / N)} with full text index, ${Math.round(bytes.noFts / N)} without`);
  console.log(`    seed formula 600 + 3 x ${chars.toFixed(0)} chars = ${seed.toFixed(0)} bytes: archive uses ${((100 * bytes.all) / N / seed).toFixed(0)}% of it`);
  const big = bytes.parts.filter(([, b]) => b / N >= 1).sort((a, b) => b[1] - a[1]);
  console.log(`    per message: ${big.map(([n, b]) => `${n} ${(b / N).toFixed(0)}`).join(", ")}`);
}

const msgs = Array.from({ length: N }, (_, i) => message(i));
const recs = msgs.map((m) => toRecord(m.env, m.decision));
const chars = msgs.reduce((n, m) => n + (m.env.body?.length ?? 0), 0) / N;
console.log(`load average ${loadavg().map((l) => l.toFixed(1)).join(" ")} on ${cpus().length} CPUs`);
console.log(`archive bench: ${N} messages per run, ${REPS} runs after a warm-up, writer batch ${BATCH}, plain INSERTs of ${PLAIN_ROWS} rows in transactions of ${BATCH}; average body ${chars.toFixed(1)} characters`);
try {
  await measure(sqlite, msgs, recs, chars);
} finally {
  rmSync(sqliteDir, { recursive: true, force: true });
}
if (PG) await measure(pgBackend(PG), msgs, recs, chars);
else console.log("PostgreSQL: skipped (set DEMARC_BENCH_PG_URL or DEMARC_TEST_PG_URL)");
