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

describe("archive bulk insert", () => {
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
