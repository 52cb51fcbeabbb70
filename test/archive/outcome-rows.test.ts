/**
 * Delivery outcomes written in batches on each back end the gateway runs:
 * through the writer thread over a SQLite file, on the gateway's connection
 * for SQLite :memory:, and as one unnest() statement on PostgreSQL. More
 * than one batch, with and without condition and detail, read back in order.
 */
import { describe, expect, it } from "vitest";
import { WorkerSink } from "../../src/archive/append-worker.js";
import { migrate, openDatabase, type Db } from "../../src/archive/db.js";
import { KnexArchiveStore } from "../../src/archive/knex-store.js";
import { openSink } from "../../src/archive/open-sink.js";
import { OutcomeLog, outcomesOf, type OutcomeEntry } from "../../src/archive/outcomes.js";
import { openPg, openSqlite, PG_SKIP_REASON, PG_URL, silentLog } from "./helpers.js";

function outcomes(n: number): OutcomeEntry[] {
  return Array.from({ length: n }, (_, i): OutcomeEntry => ({
    msgId: `m${i % 300}`,
    at: 1_700_000_000_000 + i,
    outcome: i % 3 ? "delivered" : "bounced",
    condition: i % 3 ? undefined : "remote-server-not-found",
    detail: i % 5 ? undefined : `try ${i}: it's "quoted", {braced}, back\\slash and\ttab`,
  }));
}

async function writeAndRead(db: Db, expectWorker: boolean): Promise<void> {
  const sink = openSink(db, new KnexArchiveStore(db), silentLog);
  expect(sink instanceof WorkerSink).toBe(expectWorker);
  const log = new OutcomeLog((batch) => sink.writeOutcomes(batch), silentLog);
  const want = outcomes(1_234);
  for (const e of want) log.record(e);
  await log.flush(10_000);
  await sink.close();
  const got = await outcomesOf(db, [...new Set(want.map((e) => e.msgId))]);
  for (const [msgId, list] of got) {
    const mine = want.filter((e) => e.msgId === msgId);
    expect(list.map(({ id: _id, ...e }) => e)).toEqual(mine);
  }
  expect([...got.values()].reduce((n, l) => n + l.length, 0)).toBe(want.length);
}

describe("delivery outcomes, batched", () => {
  it("SQLite file: written by the writer thread", async () => {
    const t = await openSqlite();
    await writeAndRead(t.db, true);
    await t.close();
  });

  it("SQLite :memory:: written on the gateway's own connection", async () => {
    const db = await openDatabase("sqlite::memory:", "/");
    await migrate(db);
    await writeAndRead(db, false);
    await db.destroy();
  });

  it.skipIf(!PG_URL)("PostgreSQL: one statement per batch", async () => {
    const t = await openPg();
    await writeAndRead(t.db, false);
    await t.close();
  });
  if (!PG_URL) it.skip(PG_SKIP_REASON, () => undefined);
});
