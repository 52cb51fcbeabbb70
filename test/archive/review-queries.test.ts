/**
 * The console's read-side queries on both back ends: the audit log by actor,
 * action, time and page; the record a release produced; rule hits enforced
 * and shadow over a period (a release is not a hit); the newest archived
 * traffic per partner domain and direction.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KnexArchiveStore } from "../../src/archive/knex-store.js";
import { toRecord } from "../../src/archive/record.js";
import { auditSearch, partnerTraffic, releaseRecordOf, ruleHits } from "../../src/archive/review-queries.js";
import type { Decision } from "../../src/model/route.js";
import { allow, envelope, openPg, openSqlite, PG_SKIP_REASON, PG_URL, type TestDb } from "./helpers.js";

function suite(name: string, open: () => Promise<TestDb>, skip?: string) {
  describe.skipIf(!!skip)(`console review queries on ${name}`, () => {
    let t: TestDb;
    let store: KnexArchiveStore;
    const base = Date.UTC(2025, 0, 1);

    beforeAll(async () => {
      t = await open();
      store = new KnexArchiveStore(t.db);
      const e1 = envelope({ receivedAt: base, partnerDomain: "a.example", direction: "inbound", security: { auth: "certificate", tlsVersion: "TLSv1.3", certFingerprint: "AA" } });
      const e2 = envelope({ receivedAt: base + 1000, partnerDomain: "a.example", direction: "outbound", from: "bob@corp.test", to: "x@a.example", security: undefined });
      const e3 = envelope({ receivedAt: base + 2000, partnerDomain: "b.example", direction: "inbound", security: { auth: "dialback", tlsVersion: "TLSv1.2" } });
      const held: Decision = { deliver: false, envelope: e1, policyVersion: "pv", quarantined: true, verdicts: [{ stage: "rules", ruleId: "hold", action: "quarantine" }, { stage: "rules", ruleId: "watch", action: "block", shadow: true }] };
      await store.append([
        toRecord(e1, held),
        toRecord(e2, allow(e2, { verdicts: [{ stage: "rules", ruleId: "watch", action: "block", shadow: true }] })),
        toRecord(e3, allow(e3)),
      ]);
      const released = { ...e1, receivedAt: base + 3000 };
      await store.append([toRecord(released, allow(released, { verdicts: [{ stage: "review", ruleId: "hold", action: "release", reason: "released by olga", detail: "released-from:1" } as never] }))]);
      for (const [i, [actor, action]] of [["olga", "search"], ["olga", "export"], ["rita", "search"], ["olga", "search"]].entries()) {
        await store.audit({ at: base + i * 1000, actor: actor!, action: action!, query: null, result: i });
      }
    });
    afterAll(async () => t?.close());

    it("filters the audit log by actor, action and time, newest first, in pages", async () => {
      const olgaSearches = await auditSearch(t.db, { actor: "olga", action: "search", limit: 10 });
      expect(olgaSearches.map((e) => e.result)).toEqual([3, 0]);
      expect((await auditSearch(t.db, { since: base + 1000, until: base + 3000, limit: 10 })).map((e) => e.result)).toEqual([2, 1]);
      const first = await auditSearch(t.db, { limit: 2 });
      const next = await auditSearch(t.db, { limit: 2, beforeId: first[1]!.id });
      expect([...first, ...next].map((e) => e.result)).toEqual([3, 2, 1, 0]);
    });

    it("finds the record a release produced", async () => {
      expect(await releaseRecordOf(t.db, 1)).toBe(4);
      expect(await releaseRecordOf(t.db, 2)).toBeUndefined();
    });

    it("counts rule hits, enforced and shadow, over a period, not counting releases", async () => {
      expect(await ruleHits(t.db, base, base + 10_000)).toEqual([
        { ruleId: "watch", enforced: 0, shadow: 2 },
        { ruleId: "hold", enforced: 1, shadow: 0 },
      ]);
      expect(await ruleHits(t.db, base + 500, base + 10_000)).toEqual([{ ruleId: "watch", enforced: 0, shadow: 1 }]);
    });

    it("reports the newest archived traffic per partner domain and direction", async () => {
      const rows = (await partnerTraffic(t.db)).sort((a, b) => `${a.domain}${a.direction}`.localeCompare(`${b.domain}${b.direction}`));
      expect(rows).toEqual([
        { domain: "a.example", direction: "inbound", lastAt: base + 3000, tlsVersion: "TLSv1.3", auth: "certificate", certFingerprint: "AA" },
        { domain: "a.example", direction: "outbound", lastAt: base + 1000, tlsVersion: null, auth: null, certFingerprint: null },
        { domain: "b.example", direction: "inbound", lastAt: base + 2000, tlsVersion: "TLSv1.2", auth: "dialback", certFingerprint: null },
      ]);
    });
  });
}

suite("SQLite", openSqlite);
suite("PostgreSQL", () => openPg(), PG_URL ? undefined : PG_SKIP_REASON);
