/**
 * The SQLite writer thread (src/archive/append-worker.ts): the journal is
 * acked only after the thread committed, so a kill -9 in the middle of a
 * burst loses nothing acknowledged and a replay stores each record once; a
 * thread that dies is replaced and its batch retried; a database the thread
 * cannot reach is an outage like any other; close ends the thread by message.
 */
import { spawn } from "node:child_process";
import { once } from "node:events";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Writable } from "node:stream";
import pino from "pino";
import { describe, expect, it } from "vitest";
import { ArchiveService, type ArchiveServiceOptions } from "../../src/archive/archiver.js";
import { WorkerSink } from "../../src/archive/append-worker.js";
import { migrate, openDatabase, type Db } from "../../src/archive/db.js";
import { KnexArchiveStore } from "../../src/archive/knex-store.js";
import { toRecord } from "../../src/archive/record.js";
import { openSink } from "../../src/archive/open-sink.js";
import { verifyChain } from "../../src/archive/verify.js";
import { allow, envelope, openSqlite, silentLog, tempDir } from "./helpers.js";
import { until } from "../helpers/wait.js";

const FIXTURE = join(import.meta.dirname, "fixtures", "burst-writer.ts");

function options(dir: string, sink: WorkerSink, over: Partial<ArchiveServiceOptions> = {}): ArchiveServiceOptions {
  return {
    journal: { dir, budgetBytes: 256 << 20, segmentBytes: 4 << 20, commitDelayMs: 1 },
    batch: 300,
    retryMaxMs: 100,
    onJournalFailure: "refuse",
    kinds: () => ["message"],
    sink,
    log: silentLog,
    ...over,
  };
}

async function stored(db: Db): Promise<{ n: number; msgs: number }> {
  const [row] = await db("archive_message").count({ n: "*" }).countDistinct({ msgs: "msg_id" });
  return { n: Number(row!.n), msgs: Number(row!.msgs) };
}

/** The msg_ids of the frames before the journal's checkpoint in its segment (the fixture's one segment): records the writer acked. */
function ackedIds(journalDir: string): string[] {
  const cp = JSON.parse(readFileSync(join(journalDir, "checkpoint"), "utf8")) as { segment: number; offset: number };
  const seg = readFileSync(join(journalDir, `seg-${String(cp.segment).padStart(8, "0")}.log`));
  const ids: string[] = [];
  for (let at = 0; at < cp.offset; ) {
    const len = seg.readUInt32BE(at);
    ids.push((JSON.parse(seg.subarray(at + 8, at + 8 + len).toString("utf8")) as { msgId: string }).msgId);
    at += 8 + len;
  }
  return ids;
}

describe("archive writer thread: kill -9 in a burst", () => {
  it("has every acked record in the database, and after replay every acknowledged one exactly once", async () => {
    const t = await openSqlite();
    const journalDir = tempDir();
    const N = 20_000;
    const child = spawn(process.execPath, ["--import", "tsx", FIXTURE, t.dir, journalDir, String(N)], { stdio: ["ignore", "pipe", "pipe"] });
    let durable = 0;
    let err = "";
    child.stdout.setEncoding("utf8").on("data", (c: string) => {
      for (const m of c.matchAll(/durable (\d+)/g)) durable = Number(m[1]);
    });
    child.stderr.setEncoding("utf8").on("data", (c: string) => (err += c));
    const exited = new Promise<NodeJS.Signals | null>((r) => child.on("exit", (_c, sig) => r(sig)));
    try {
      // Mid-burst: records acknowledged, the thread committing batches behind them, more coming.
      await until(async () => durable >= 4000 && (await stored(t.db)).n > 0, 30_000, "a burst under way with the thread writing").catch(() => undefined);
      expect(durable, err).toBeGreaterThanOrEqual(4000);
    } finally {
      process.kill(child.pid!, "SIGKILL");
    }
    expect(await exited).toBe("SIGKILL");
    const killedAt = durable;
    expect(killedAt).toBeLessThan(N);

    // Acked means committed: every record before the checkpoint is stored.
    const have = new Set((await t.db("archive_message").pluck("msg_id")) as string[]);
    const acked = ackedIds(journalDir);
    expect(acked.length).toBeGreaterThan(0);
    expect(acked.filter((id) => !have.has(id))).toEqual([]);

    const store = new KnexArchiveStore(t.db);
    const sink = new WorkerSink(join(t.dir, "archive.db"), silentLog);
    const svc = await ArchiveService.open(store, options(journalDir, sink));
    await until(() => svc.journal.pendingRecords === 0, 30_000, "the replay to drain");
    await svc.close(2000);
    const after = await stored(t.db);
    expect(after.n).toBe(after.msgs);
    const ids = new Set((await t.db("archive_message").pluck("msg_id")) as string[]);
    const lost = Array.from({ length: killedAt }, (_, i) => `burst-${i}`).filter((id) => !ids.has(id));
    expect(lost).toEqual([]);
    expect((await verifyChain(store)).ok).toBe(true);
    await t.close();
  });
});

describe("archive writer thread: failures", () => {
  it("rejects the batch of a thread that dies, and the retry on a new thread stores it once", async () => {
    const t = await openSqlite();
    const sink = new WorkerSink(join(t.dir, "archive.db"), silentLog);
    const envs = Array.from({ length: 50 }, () => envelope());
    const entries = envs.map((e, i) => ({ value: JSON.stringify(toRecord(e, allow(e))), end: { segment: 1, offset: i + 1 } }));
    const first = sink.append(entries);
    await sink.worker!.terminate();
    await expect(first).rejects.toThrow(/thread stopped/);
    expect(sink.worker).toBeUndefined();
    const again = await sink.append(entries);
    expect(again.inserted + again.skipped).toBe(50);
    expect(await sink.append(entries)).toEqual({ inserted: 0, skipped: 50, invalid: [] });
    expect(sink.started).toBe(2);
    await sink.close();
    expect(await stored(t.db)).toEqual({ n: 50, msgs: 50 });
    await t.close();
  });

  it("keeps writing through threads ended mid-stream, each record stored once", async () => {
    const t = await openSqlite();
    const sink = new WorkerSink(join(t.dir, "archive.db"), silentLog);
    const svc = await ArchiveService.open(new KnexArchiveStore(t.db), options(tempDir(), sink));
    const ids: string[] = [];
    for (let wave = 0; wave < 20; wave++) {
      const envs = Array.from({ length: 250 }, () => envelope());
      ids.push(...envs.map((e) => e.id));
      await Promise.all(envs.map((e) => svc.record(e, allow(e))));
      if (wave % 4 === 1) await sink.worker?.terminate();
    }
    await until(() => svc.journal.pendingRecords === 0, 20_000, "the journal to drain");
    await svc.close(2000);
    expect(sink.started).toBeGreaterThan(1);
    expect(await stored(t.db)).toEqual({ n: ids.length, msgs: ids.length });
    expect((await verifyChain(new KnexArchiveStore(t.db))).ok).toBe(true);
    await t.close();
  });

  it("treats a database the thread cannot open as an outage: journal grows, db down, logged, drained once it is there", async () => {
    const dir = join(tempDir(), "later");
    const lines: { msg: string }[] = [];
    const log = pino({ level: "warn" }, new Writable({ write: (c: Buffer, _e, cb) => (lines.push(JSON.parse(c.toString()) as { msg: string }), cb()) }));
    const sink = new WorkerSink(join(dir, "archive.db"), log);
    const svc = await ArchiveService.open({ dialect: "sqlite" } as never, options(tempDir(), sink, { log }));
    const envs = Array.from({ length: 500 }, () => envelope());
    await Promise.all(envs.map((e) => svc.record(e, allow(e))));
    await until(() => !svc.writer.dbUp, 5_000, "the writer to see the database down");
    expect(svc.journal.pendingRecords).toBe(500);
    const db = await openDatabase("sqlite:archive.db", dir);
    await migrate(db);
    await until(() => svc.journal.pendingRecords === 0, 10_000, "the journal to drain");
    expect(svc.writer.dbUp).toBe(true);
    await svc.close(2000);
    expect(await stored(db)).toEqual({ n: 500, msgs: 500 });
    const said = lines.map((l) => l.msg);
    expect(said.filter((m) => m.startsWith("ARCHIVE DATABASE UNAVAILABLE"))).toHaveLength(1);
    expect(said).toContain("archive database is back; draining the journal");
    await db.destroy();
  });
});

describe("archive writer thread: lifecycle", () => {
  it("is what the gateway uses over a SQLite file, and close ends it by message", async () => {
    const t = await openSqlite();
    const store = new KnexArchiveStore(t.db);
    const sink = openSink(t.db, store, silentLog);
    expect(sink).toBeInstanceOf(WorkerSink);
    const svc = await ArchiveService.open(store, options(tempDir(), sink as WorkerSink));
    const e = envelope();
    await svc.record(e, allow(e));
    await until(() => svc.journal.pendingRecords === 0, 5_000, "the record to be written");
    const thread = (sink as WorkerSink).worker!;
    const exit = once(thread, "exit");
    await svc.close(1000);
    // Exit code 0: the thread stopped on the message; terminate() would have given 1.
    expect(await exit).toEqual([0]);
    expect((sink as WorkerSink).worker).toBeUndefined();
    await expect(sink.append([])).rejects.toThrow(/closed/);
    await t.close();
  });
});
