/**
 * Migration 041: offline messages stored before the content model kept the
 * stanza as received (pre-redaction text included); the migration drops it
 * and leaves the decided envelope as it was.
 */
import { describe, expect, it } from "vitest";
import knexFactory from "knex";
import { migrate } from "../../src/archive/db.js";
import { up } from "../../src/archive/migrations/041_offline_original.js";

describe("migration 041_offline_original", () => {
  it("drops the raw stanza from stored offline messages, page by page, and keeps the rest", async () => {
    const db = knexFactory({ client: "better-sqlite3", connection: { filename: ":memory:" }, useNullAsDefault: true, pool: { min: 1, max: 1 } });
    try {
      expect(await migrate(db)).toContain("041_offline_original");
      const decided = { id: "e1", body: "the [REDACTED] plan", kind: "message" };
      const rows = Array.from({ length: 1203 }, (_, i) => ({
        user_jid: "dave@corp.test",
        received_at: i,
        envelope: JSON.stringify(i % 2 ? { ...decided, original: "<message><body>the bluebird plan</body></message>" } : decided),
      }));
      for (let i = 0; i < rows.length; i += 200) await db("core_offline").insert(rows.slice(i, i + 200));
      await db("core_offline").insert({ user_jid: "x@corp.test", received_at: 0, envelope: "not json, \"original\"" });
      await up(db);
      const after = (await db("core_offline").select("envelope").orderBy("id")) as { envelope: string }[];
      expect(after).toHaveLength(1204);
      expect(after.slice(0, 1203).every((r) => JSON.stringify(JSON.parse(r.envelope)) === JSON.stringify(decided))).toBe(true);
      expect(after.some((r) => r.envelope.includes("bluebird"))).toBe(false);
      expect(after[1203]!.envelope).toBe('not json, "original"');
    } finally {
      await db.destroy();
    }
  });
});
