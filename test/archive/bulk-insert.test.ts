/**
 * The writer's bulk paths (COPY on PostgreSQL, prepared statements on SQLite)
 * store text exactly, whatever it holds: COPY's escapes (tab, newline,
 * carriage return, backslash), its NULL marker as literal text, quotes and
 * non-ASCII; absent values stay NULL; the hash chain verifies afterwards.
 */
import { describe, expect, it } from "vitest";
import { KnexArchiveStore } from "../../src/archive/knex-store.js";
import { toRecord } from "../../src/archive/record.js";
import { verifyChain } from "../../src/archive/verify.js";
import { allow, envelope, openPg, openSqlite, PG_SKIP_REASON, PG_URL, type TestDb } from "./helpers.js";

const AWKWARD = ["tab\there", "line\nbreak\r\nand CR", "back\\slash \\N \\x00", "quote ' \" ; --", "naïve 日本語 🙂", ""];

async function roundTrip(t: TestDb): Promise<void> {
  const store = new KnexArchiveStore(t.db);
  const recs = AWKWARD.map((body, i) => {
    const env = envelope({ body, subject: i % 2 ? `subj\t${i}` : undefined, thread: i === 3 ? "th\\read" : undefined });
    return toRecord(env, allow(env));
  });
  expect(await store.append(recs)).toEqual({ inserted: recs.length, skipped: 0 });
  expect(await store.append(recs)).toEqual({ inserted: 0, skipped: recs.length });
  for (const [i, r] of recs.entries()) {
    const got = await store.get(i + 1);
    expect(got?.body).toBe(r.body);
    expect(got?.subject).toBe(r.subject);
    expect(got?.thread).toBe(r.thread);
    expect(got?.deliveredBody).toBe(r.deliveredBody);
    expect(got?.rid).toBe(r.rid);
  }
  expect((await verifyChain(store)).ok).toBe(true);
}

/**
 * A batch larger than one multi-row statement, with rids repeated inside it
 * and rids stored by an earlier batch: each record is stored once, in batch
 * order, and the chain verifies.
 */
async function mixedBatch(t: TestDb): Promise<void> {
  const store = new KnexArchiveStore(t.db);
  const recs = Array.from({ length: 137 }, (_, i) => {
    const env = envelope({ body: `bulk ${i}`, from: `user${i % 7}@partner${i % 3}.example/r` });
    return toRecord(env, allow(env));
  });
  expect(await store.append(recs.slice(0, 20))).toEqual({ inserted: 20, skipped: 0 });
  const batch = [...recs.slice(10), recs[50]!, recs[120]!];
  expect(await store.append(batch)).toEqual({ inserted: 117, skipped: 12 });
  const stored = await store.chain(0, 1000);
  expect(stored.map((r) => r.rid)).toEqual(recs.map((r) => r.rid));
  expect(stored.map((r) => r.seq)).toEqual(recs.map((_, i) => i + 1));
  expect(stored[77]!.from).toBe(recs[77]!.from);
  expect((await verifyChain(store)).ok).toBe(true);
}

describe("archive bulk insert", () => {
  it("SQLite stores a large batch with repeated and stored rids once each, in order", async () => {
    const t = await openSqlite();
    try {
      await mixedBatch(t);
    } finally {
      await t.close();
    }
  });
  it.skipIf(!PG_URL)(`PostgreSQL stores a large batch with repeated and stored rids once each, in order${PG_URL ? "" : ` (${PG_SKIP_REASON})`}`, async () => {
    const t = await openPg();
    try {
      await mixedBatch(t);
    } finally {
      await t.close();
    }
  });
  it("SQLite keeps awkward text exactly", async () => {
    const t = await openSqlite();
    try {
      await roundTrip(t);
    } finally {
      await t.close();
    }
  });
  it.skipIf(!PG_URL)(`PostgreSQL COPY keeps awkward text exactly${PG_URL ? "" : ` (${PG_SKIP_REASON})`}`, async () => {
    const t = await openPg();
    try {
      await roundTrip(t);
    } finally {
      await t.close();
    }
  });
});
