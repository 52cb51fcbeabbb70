/**
 * Back-pressure from the archive: while the database is away, the journal
 * grows; past archive.journal.pause_at_percent of the budget the archive says
 * it is congested, a stream's lane pauses reading instead of refusing
 * anything, and reading resumes once the database is back and the writer
 * has drained it. Every message is delivered and stored.
 */
import { describe, expect, it } from "vitest";
import { ArchiveService } from "../../src/archive/archiver.js";
import { KnexArchiveStore } from "../../src/archive/knex-store.js";
import type { ArchiveRecord } from "../../src/archive/record.js";
import type { ArchiveStore } from "../../src/archive/store.js";
import { Router } from "../../src/router/router.js";
import { envelope, openSqlite, silentLog, tempDir } from "./helpers.js";
import { until } from "../helpers/wait.js";

describe("archive back-pressure", () => {
  it("pauses a stream while the database is away and resumes it once the journal drains, losing nothing", async () => {
    const t = await openSqlite();
    const real = new KnexArchiveStore(t.db);
    let dbDown = true;
    // The database as the writer sees it: refusing while "down".
    const store = new Proxy(real, {
      get(target, prop, receiver) {
        if (prop === "append") {
          return async (recs: ArchiveRecord[]) => {
            if (dbDown) throw new Error("connection refused");
            return target.append(recs);
          };
        }
        return Reflect.get(target, prop, receiver);
      },
    }) as ArchiveStore;
    const svc = await ArchiveService.open(store, {
      journal: { dir: tempDir(), budgetBytes: 4 << 20, segmentBytes: 1 << 20, commitDelayMs: 0 },
      batch: 200,
      retryMaxMs: 50,
      onJournalFailure: "refuse",
      kinds: () => ["message"],
      pauseBytes: 64 << 10,
      log: silentLog,
    });
    try {
      const router = new Router({ log: silentLog, protocolOf: () => "xmpp" });
      const delivered: string[] = [];
      router.useArchiver(svc);
      router.useInternal({ async deliver(e) { delivered.push(e.id); } });
      const events: string[] = [];
      const lane = router.lane({ pause: () => events.push("pause"), resume: () => events.push("resume") });
      const sent: string[] = [];
      const results: Promise<unknown>[] = [];
      // A sender that honours the pause: it writes only while the stream is read.
      for (let i = 0; i < 1_000 && !events.includes("pause"); i++) {
        const e = envelope({ body: "x".repeat(200) });
        sent.push(e.id);
        results.push(lane.route(e));
        if (i % 50 === 49) await Promise.all(results);
      }
      expect(events).toEqual(["pause"]);
      expect(svc.congested()).toBe(true);
      await Promise.all(results);
      expect(delivered).toEqual(sent);
      expect(svc.failures.refused.size).toBe(0);
      dbDown = false;
      await until(() => events.includes("resume"), 10_000, "resume").catch(() => undefined);
      expect(events).toEqual(["pause", "resume"]);
      await until(() => svc.journal.pendingRecords === 0, 10_000, "the journal to drain").catch(() => undefined);
      const [row] = await t.db("archive_message").count({ n: "*" });
      expect(Number(row!.n)).toBe(sent.length);
    } finally {
      await svc.close(2_000);
      await t.close();
    }
  }, 30_000);
});
