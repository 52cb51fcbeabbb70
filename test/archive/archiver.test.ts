/**
 * The zero-loss write path end to end: fail closed (and open when configured)
 * through the real router, a database outage in the middle of 10,000 messages
 * on both back ends, and replay of the journal after a restart.
 */
import { afterAll, describe, expect, it } from "vitest";
import { ArchiveService, type ArchiveServiceOptions } from "../../src/archive/archiver.js";
import { openDatabase } from "../../src/archive/db.js";
import { KnexArchiveStore } from "../../src/archive/knex-store.js";
import type { ArchiveRecord } from "../../src/archive/record.js";
import type { ArchiveStore } from "../../src/archive/store.js";
import { verifyChain } from "../../src/archive/verify.js";
import { Router } from "../../src/router/router.js";
import type { Db } from "../../src/archive/db.js";
import { allow, envelope, openPg, openSqlite, PG_SKIP_REASON, PG_URL, silentLog, tempDir, type TestDb } from "./helpers.js";
import { startProxy, type TcpProxy } from "./tcp-proxy.js";
import { until } from "../helpers/wait.js";

// This file's loopback address: 127.0.6.1 (the database proxy).
function options(dir: string, over: Partial<ArchiveServiceOptions> = {}): ArchiveServiceOptions {
  return {
    journal: { dir, budgetBytes: 256 << 20, segmentBytes: 4 << 20, commitDelayMs: 1 },
    batch: 500,
    retryMaxMs: 100,
    onJournalFailure: "refuse",
    kinds: () => ["message", "groupchat", "subscription", "file-transfer"],
    log: silentLog,
    ...over,
  };
}

/** Sends n messages in concurrent waves through the Archiver; `at` runs before message i. */
async function stream(svc: ArchiveService, n: number, at: Record<number, () => Promise<void>>): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i += 250) {
    if (at[i]) await at[i]!();
    const wave = Array.from({ length: Math.min(250, n - i) }, () => envelope());
    ids.push(...wave.map((e) => e.id));
    await Promise.all(wave.map((e) => svc.record(e, allow(e))));
  }
  return ids;
}

async function checkExactlyOnce(db: Db, ids: string[]): Promise<void> {
  const [row] = await db("archive_message").count({ n: "*" }).countDistinct({ rids: "rid", msgs: "msg_id" });
  expect(Number(row!.n)).toBe(ids.length);
  expect(Number(row!.rids)).toBe(ids.length);
  expect(Number(row!.msgs)).toBe(ids.length);
  const v = await verifyChain(new KnexArchiveStore(db));
  expect(v).toMatchObject({ ok: true, checked: ids.length });
}

describe("archiver: fail closed", () => {
  it("refuses delivery when the journal is out of budget, and delivers unarchived only when configured to", async () => {
    const t = await openSqlite();
    const store = new KnexArchiveStore(t.db);
    for (const mode of ["refuse", "deliver"] as const) {
      const svc = await ArchiveService.open(store, options(tempDir(), {
        journal: { dir: tempDir(), budgetBytes: 2048, segmentBytes: 1024, commitDelayMs: 0 },
        onJournalFailure: mode,
      }));
      const router = new Router({ log: silentLog, protocolOf: () => "xmpp" });
      const delivered: string[] = [];
      router.useArchiver(svc);
      router.useInternal({ deliver: async (e) => void delivered.push(e.id) });
      const big = "x".repeat(1500);
      const first = await router.route(envelope({ body: "fits" }));
      expect(first.delivered).toBe(true);
      const second = await router.route(envelope({ body: big }));
      if (mode === "refuse") {
        expect(second).toEqual({ delivered: false, error: expect.objectContaining({ condition: "internal-server-error" }) });
        expect(svc.failures.refused.get("budget")).toBe(1);
        expect(delivered).toHaveLength(1);
      } else {
        expect(second.delivered).toBe(true);
        expect(svc.failures.deliveredUnarchived.get("budget")).toBe(1);
        expect(delivered).toHaveLength(2);
      }
      expect(svc.journalError).toMatch(/budget/);
      await svc.close(2000);
    }
    await t.close();
  });

  it("keeps kinds outside archive.kinds only when compliance enforced a verdict on them", async () => {
    const t = await openSqlite();
    const store = new KnexArchiveStore(t.db);
    const svc = await ArchiveService.open(store, options(tempDir()));
    const seen = envelope({ kind: "presence", body: undefined, presence: { state: "available" } });
    await svc.record(seen, allow(seen));
    const shadowed = envelope({ kind: "presence", body: undefined, presence: { state: "busy" } });
    await svc.record(shadowed, allow(shadowed, { verdicts: [{ stage: "walls", ruleId: "trial-wall", action: "block", shadow: true }] }));
    const walled = envelope({ kind: "presence", body: undefined, presence: { state: "dnd" } });
    await svc.record(walled, allow(walled, { deliver: false, verdicts: [{ stage: "walls", ruleId: "research-trading", action: "block" }] }));
    await svc.close(2000);
    const rows = (await t.db("archive_message").select("msg_id", "kind", "verdict")) as { msg_id: string; kind: string; verdict: string }[];
    expect(rows.map((r) => [r.kind, r.verdict])).toEqual([["presence", "block"]]);
    await t.close();
  });
});

describe("archiver: database outage (SQLite, store failing)", () => {
  it("journals through an outage mid-stream of 10,000 messages and stores each exactly once", async () => {
    const t = await openSqlite();
    const real = new KnexArchiveStore(t.db);
    let down = false;
    const flaky = {
      dialect: real.dialect,
      append: (recs: ArchiveRecord[]) => (down ? Promise.reject(new Error("connect ECONNREFUSED")) : real.append(recs)),
    } as unknown as ArchiveStore;
    const svc = await ArchiveService.open(flaky, options(tempDir()));
    const ids = await stream(svc, 10_000, {
      3000: async () => void (down = true),
      4000: async () => void (await until(() => !svc.writer.dbUp, 5000, "the writer to notice")),
      7000: async () => {
        expect(svc.journal.pendingRecords).toBeGreaterThanOrEqual(3000);
        down = false;
      },
    });
    await until(() => svc.journal.pendingRecords === 0, 20_000, "the journal to drain");
    expect(svc.writer.dbUp).toBe(true);
    await svc.close(2000);
    await checkExactlyOnce(t.db, ids);
    await t.close();
  });

  it("replays the journal at the next start after a stop that could not drain", async () => {
    const t = await openSqlite();
    const dir = tempDir();
    const hung = { dialect: "sqlite", append: () => new Promise(() => undefined) } as unknown as ArchiveStore;
    const first = await ArchiveService.open(hung, options(dir));
    const ids = await stream(first, 1200, {});
    await first.close(100);
    expect(first.journal.pendingRecords).toBe(1200);
    const second = await ArchiveService.open(new KnexArchiveStore(t.db), options(dir));
    await until(() => second.journal.pendingRecords === 0, 10_000, "replay");
    await second.close(1000);
    await checkExactlyOnce(t.db, ids);
    await t.close();
  });
});

describe.skipIf(!PG_URL)("archiver: database outage (PostgreSQL through a TCP proxy that is cut)", () => {
  let direct: (TestDb & { schema: string }) | undefined;
  let viaProxy: Db | undefined;
  let proxy: TcpProxy | undefined;
  afterAll(async () => {
    await viaProxy?.destroy();
    await direct?.close();
    await proxy?.close();
  });

  it("cuts the database mid-stream of 10,000 messages, restores it, and has each stored exactly once", async () => {
    const pgAt = new URL(PG_URL!);
    proxy = await startProxy("127.0.6.1", { host: pgAt.hostname, port: Number(pgAt.port || 5432) });
    direct = await openPg();
    const u = new URL(PG_URL!);
    u.hostname = "127.0.6.1";
    u.port = String(proxy.port);
    viaProxy = await openDatabase(u.toString(), tempDir(), 2, { schema: direct.schema });
    const svc = await ArchiveService.open(new KnexArchiveStore(viaProxy), options(tempDir()));
    let outageStart = 0;
    const ids = await stream(svc, 10_000, {
      3000: async () => {
        await proxy!.cut();
        outageStart = Date.now();
      },
      4000: async () => void (await until(() => !svc.writer.dbUp, 10_000, "the writer to notice")),
      7000: async () => {
        // Delivery went on while the database was away: 4,000 messages journaled in well under the connect timeouts.
        expect(svc.journal.pendingRecords).toBeGreaterThanOrEqual(3000);
        expect(Date.now() - outageStart).toBeLessThan(15_000);
        await proxy!.restore();
      },
    });
    await until(() => svc.journal.pendingRecords === 0, 30_000, "the journal to drain");
    await svc.close(2000);
    await checkExactlyOnce(direct.db, ids);
  });
});

if (!PG_URL) {
  describe("archiver: database outage (PostgreSQL)", () => {
    it.skip(PG_SKIP_REASON, () => undefined);
  });
}

describe("archiver: which envelopes it keeps", () => {
  it("reads archive.kinds for each envelope, so a reload applies to the next one; an intervening verdict is kept whatever the kinds", async () => {
    const t = await openSqlite();
    let kinds = ["message"];
    const svc = await ArchiveService.open(new KnexArchiveStore(t.db), options(tempDir(), { kinds: () => kinds }));
    const presence = () => envelope({ kind: "presence", body: undefined });
    const before = presence();
    await svc.record(before, allow(before));
    expect(svc.keeps("presence", allow(before))).toBe(false);
    const walled = presence();
    await svc.record(walled, allow(walled, { deliver: false }));
    kinds = ["message", "presence"];
    const after = presence();
    await svc.record(after, allow(after));
    expect(svc.keeps("presence", allow(after))).toBe(true);
    await svc.close(5000);
    const stored = (await t.db("archive_message").pluck("msg_id")) as string[];
    expect(stored.sort()).toEqual([walled.id, after.id].sort());
    await t.close();
  });
});
