/**
 * The archive tells the truth about delivery: the real router, compliance,
 * archive and s2s modules, with federation allow-listed. A message to a domain
 * not on the list is archived with its verdict (allow) and the outcome
 * "refused" (not-allowed), never as plain delivered; a delivered one says
 * delivered, a stored one stored-offline, a blocked one blocked. A shadow
 * rule's hit is found by --rule and counted by the policy report.
 * Loopback address: 127.0.51.2 (s2s listener, port 0).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { archiveModule } from "../../src/archive/module.js";
import { KnexArchiveStore } from "../../src/archive/knex-store.js";
import { outcomesOf } from "../../src/archive/outcomes.js";
import { ruleReport } from "../../src/archive/rule-report.js";
import { loadConfig } from "../../src/config/load.js";
import type { Config } from "../../src/config/schema.js";
import { s2sModule } from "../../src/edge/xmpp/module.js";
import { Gateway } from "../../src/gateway/gateway.js";
import type { GatewayModule } from "../../src/module.js";
import { complianceModule } from "../../src/pipeline/module.js";
import { tlsModule } from "../../src/tls/module.js";
import { toRecord } from "../../src/archive/record.js";
import { writeOutcome } from "../../src/archive/outcomes.js";
import { allow, envelope, openPg, openSqlite, PG_SKIP_REASON, PG_URL, silentLog, tempDir, type TestDb } from "./helpers.js";

const POLICY = `kind: policy
rules:
  - id: trial-numbers
    shadow: true
    when: { body: ['\\bQ[1-4] numbers\\b'] }
    then: { action: block }
  - id: no-codenames
    when: { words: [osprey] }
    then: { action: block }
`;

describe("delivery outcomes in the archive", () => {
  it("refused by routing, delivered, stored offline and blocked are each on record; shadow hits are found", async () => {
    const dir = tempDir();
    mkdirSync(join(dir, "policies"));
    writeFileSync(join(dir, "policies", "10.yaml"), POLICY);
    const config = loadConfig({
      env: {},
      overrides: {
        domains: ["corp.test"],
        data_dir: join(dir, "data"),
        tls: { dir: join(dir, "certs") },
        policy: { dir: join(dir, "policies"), watch: false },
        federation: { mode: "allow-listed" },
        partners: [{ domain: "partner.example" }],
        s2s: { starttls: { host: "127.0.51.2", port: 0 }, direct_tls: { enabled: false } },
        archive: { journal: { commit_delay_ms: 1 } },
      } as unknown as Partial<Config>,
    });
    const tls = tlsModule();
    const archive = archiveModule();
    let offline = false;
    const internal: GatewayModule = {
      name: "internal",
      async start(ctx) {
        ctx.router.useInternal({ deliver: async () => (offline ? { outcome: "stored-offline" as const } : undefined) });
      },
      async stop() {},
    };
    const gw = new Gateway(config, silentLog, [complianceModule(), tls, archive, internal, s2sModule(tls)]);
    await gw.start();
    const ctx = gw.context;
    const out = envelope({ direction: "outbound", from: "alice@corp.test/desk", to: "bob@stranger.example", partnerDomain: "stranger.example", body: "the Q1 numbers are attached" });
    const inbound = envelope({ body: "hello from a partner" });
    const stored = envelope({ body: "for later" });
    const blocked = envelope({ body: "osprey launch" });
    try {
      const refused = await ctx.router.route(out);
      expect(refused).toMatchObject({ delivered: false, error: { condition: "not-allowed", text: "stranger.example is not an allowed partner" } });
      expect((await ctx.router.route(inbound)).delivered).toBe(true);
      offline = true;
      expect((await ctx.router.route(stored)).delivered).toBe(true);
      expect((await ctx.router.route(blocked)).delivered).toBe(false);
    } finally {
      const svc = archive.service!;
      await gw.close(); // drains the journal and the outcomes
      expect(svc.journal.pendingRecords).toBe(0);
    }

    const { openDatabase } = await import("../../src/archive/db.js");
    const db = await openDatabase("sqlite:archive.db", join(dir, "data"));
    try {
      const store = new KnexArchiveStore(db);
      const fates = await outcomesOf(db, [out.id, inbound.id, stored.id, blocked.id]);
      const last = (id: string) => fates.get(id)?.at(-1);
      expect(last(out.id)).toMatchObject({ outcome: "refused", condition: "not-allowed", detail: "stranger.example is not an allowed partner" });
      expect(last(inbound.id)).toMatchObject({ outcome: "delivered" });
      expect(last(stored.id)).toMatchObject({ outcome: "stored-offline" });
      expect(last(blocked.id)).toMatchObject({ outcome: "blocked", condition: "policy-violation" });

      const refusedRows = await store.find({ outcome: "refused" }, { limit: 10 });
      expect(refusedRows.map((r) => [r.msgId, r.verdict])).toEqual([[out.id, "allow"]]);
      expect((await store.find({ outcome: "delivered" }, { limit: 10 })).map((r) => r.msgId)).toEqual([inbound.id]);

      // The shadow rule decided nothing, so the record's rule_id is empty; --rule still finds it.
      const shadow = await store.find({ rule: "trial-numbers" }, { limit: 10 });
      expect(shadow.map((r) => [r.msgId, r.ruleId])).toEqual([[out.id, null]]);
      expect((await store.find({ rule: "no-codenames" }, { limit: 10 })).map((r) => r.msgId)).toEqual([blocked.id]);
      expect(await store.count({ rule: "trial_numbers" })).toBe(0); // _ is not a wildcard

      const report = await ruleReport(db, {});
      expect(report.records).toBe(4);
      expect(report.rules).toEqual([
        expect.objectContaining({ ruleId: "no-codenames", fired: 1, enforced: 1, shadow: 0, actions: { block: 1 }, directions: { inbound: 1 }, partners: { "partner.example": 1 } }),
        expect.objectContaining({ ruleId: "trial-numbers", fired: 1, enforced: 0, shadow: 1, actions: { block: 1 }, directions: { outbound: 1 }, partners: { "stranger.example": 1 }, samples: [shadow[0]!.seq] }),
      ]);
    } finally {
      await db.destroy();
    }
  });
});

/** The same searches on each back end: the LIKE escape and the latest-outcome subquery are dialect-sensitive. */
async function searches(t: TestDb): Promise<void> {
  const store = new KnexArchiveStore(t.db);
  const [a, b, c] = [envelope(), envelope(), envelope()];
  const shadowHit = { ...allow(b), verdicts: [{ stage: "rules", ruleId: "trial_1", action: "block", shadow: true }] };
  await store.append([toRecord(a, allow(a)), toRecord(b, shadowHit), toRecord(c, allow(c))]);
  await writeOutcome(t.db, { msgId: a.id, at: 1, outcome: "held" });
  await writeOutcome(t.db, { msgId: a.id, at: 2, outcome: "delivered" });
  await writeOutcome(t.db, { msgId: b.id, at: 3, outcome: "bounced", condition: "remote-server-not-found" });
  expect((await store.find({ outcome: "delivered" }, { limit: 10 })).map((r) => r.msgId)).toEqual([a.id]);
  expect(await store.count({ outcome: "held" })).toBe(0); // only the latest outcome counts
  expect((await store.find({ rule: "trial_1" }, { limit: 10 })).map((r) => r.msgId)).toEqual([b.id]);
  expect(await store.count({ rule: "trialx1" })).toBe(0);
  expect(await store.count({ rule: "trial%" })).toBe(0);
}

describe("outcome and shadow-rule searches", () => {
  it("on SQLite", async () => {
    const t = await openSqlite();
    try {
      await searches(t);
    } finally {
      await t.close();
    }
  });
  it.skipIf(!PG_URL)(`on PostgreSQL${PG_URL ? "" : ` (${PG_SKIP_REASON})`}`, async () => {
    const t = await openPg();
    try {
      await searches(t);
    } finally {
      await t.close();
    }
  });
});
