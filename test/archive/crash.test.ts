/**
 * Crash between journal append and database write: a child process journals
 * messages while its database stalls, is killed with SIGKILL, and the next
 * start replays the journal so every message is stored exactly once.
 */
import { spawn } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ArchiveService } from "../../src/archive/archiver.js";
import { KnexArchiveStore } from "../../src/archive/knex-store.js";
import { verifyChain } from "../../src/archive/verify.js";
import { openSqlite, silentLog, tempDir } from "./helpers.js";
import { until } from "../helpers/wait.js";

const FIXTURE = join(import.meta.dirname, "fixtures", "crash-writer.ts");

describe("archive crash recovery", () => {
  it("replays what was journaled but not written when the process was killed", async () => {
    const t = await openSqlite();
    const journalDir = tempDir();
    const N = 3000;
    const child = spawn(process.execPath, ["--import", "tsx", FIXTURE, t.dir, journalDir, String(N)], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.setEncoding("utf8").on("data", (c: string) => (out += c));
    child.stderr.setEncoding("utf8").on("data", (c: string) => (err += c));
    const exited = new Promise<NodeJS.Signals | null>((r) => child.on("exit", (_c, sig) => r(sig)));
    try {
      await until(() => out.includes(`durable ${N}`) || child.exitCode !== null, 20_000, "the writer to report every record durable").catch(() => undefined);
      expect(out, err).toContain(`durable ${N}`);
    } finally {
      process.kill(child.pid!, "SIGKILL");
    }
    expect(await exited).toBe("SIGKILL");

    const before = Number((await t.db("archive_message").count({ n: "*" }))[0]!.n);
    expect(before).toBeGreaterThan(0);
    expect(before).toBeLessThan(N);
    const svc = await ArchiveService.open(new KnexArchiveStore(t.db), {
      journal: { dir: journalDir, budgetBytes: 64 << 20, segmentBytes: 1 << 20, commitDelayMs: 1 },
      batch: 500, retryMaxMs: 100, onJournalFailure: "refuse", kinds: () => ["message"], log: silentLog,
    });
    // The checkpoint may lag the database: replay starts at or before the first unwritten record.
    expect(svc.journal.pendingRecords).toBeGreaterThanOrEqual(N - before);
    await until(() => svc.journal.pendingRecords === 0, 15_000, "the journal to drain").catch(() => undefined);
    await svc.close(1000);
    const [row] = await t.db("archive_message").count({ n: "*" }).countDistinct({ ids: "msg_id" });
    expect(Number(row!.n)).toBe(N);
    expect(Number(row!.ids)).toBe(N);
    expect((await verifyChain(new KnexArchiveStore(t.db))).ok).toBe(true);
    await t.close();
  });
});
