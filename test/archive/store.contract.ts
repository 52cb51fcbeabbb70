/**
 * The contract every archive back end passes (run by store.sqlite.test.ts and
 * store.pg.test.ts): append with idempotent ids and a sequential hash chain,
 * search (conversations, shadow rules, newest first too), tamper detection, retention with holds, the JM view, the audit log.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KnexArchiveStore } from "../../src/archive/knex-store.js";
import { toRecord } from "../../src/archive/record.js";
import { purge } from "../../src/archive/retention.js";
import { verifyChain } from "../../src/archive/verify.js";
import { allow, envelope, type TestDb } from "./helpers.js";

const DAY = 86_400_000;

export function storeContract(name: string, open: () => Promise<TestDb>): void {
  describe(`archive store contract: ${name}`, () => {
    let t: TestDb;
    let store: KnexArchiveStore;
    beforeAll(async () => {
      t = await open();
      store = new KnexArchiveStore(t.db);
    });
    afterAll(async () => {
      await t?.close();
    });

    it("round-trips every field and skips records it already has", async () => {
      const e = envelope({
        subject: "Quarterly ünïcode ✓",
        thread: "th-1",
        body: "line one\nFrom here, with \"quotes\", commas",
        security: { tlsVersion: "TLSv1.2", auth: "dialback" },
      });
      const redacted = { ...e, body: "line one\n[redacted]" };
      const rec = toRecord(e, allow(e, {
        envelope: redacted,
        policyVersion: "sha256:abc",
        verdicts: [{ stage: "rules", ruleId: "redact-ssn", action: "redact" }, { stage: "lexicon", action: "tag", shadow: true }],
      }));
      const first = await store.append([rec, rec]);
      expect(first).toEqual({ inserted: 1, skipped: 1 });
      expect(await store.append([rec])).toEqual({ inserted: 0, skipped: 1 });
      const [got] = await store.find({ thread: "th-1" }, { limit: 10 });
      expect(got).toBeDefined();
      const { seq, hash, purgeId, ...fields } = got!;
      expect(fields).toEqual(rec);
      expect(seq).toBe(1);
      expect(hash).toHaveLength(32);
      expect(purgeId).toBeNull();
      expect(rec.deliveredBody).toBe("line one\n[redacted]");
      expect(rec.ruleId).toBe("redact-ssn");
      expect(rec.auth).toBe("dialback");
    });

    it("finds by participant, domain, time, text, verdict, rule and thread", async () => {
      const base = Date.UTC(2024, 5, 1);
      const envs = [
        envelope({ receivedAt: base, from: "Carol@Acme.example/x", to: "dave@corp.test", partnerDomain: "acme.example", body: "the merger closes friday" }),
        envelope({ receivedAt: base + 1000, from: "dave@corp.test", to: "carol@acme.example", direction: "outbound", partnerDomain: "acme.example", body: "ok see you friday", thread: "deal" }),
        envelope({ receivedAt: base + 2000, from: "erin@other.example", to: "dave@corp.test", partnerDomain: "other.example", body: "project falcon budget", thread: "deal" }),
      ];
      const recs = envs.map((e, i) =>
        toRecord(e, i === 2
          ? { deliver: false, envelope: e, policyVersion: "pv", quarantined: true, verdicts: [{ stage: "rules", ruleId: "falcon", action: "quarantine" }] } as never
          : allow(e)),
      );
      await store.append(recs);
      const ids = async (q: Parameters<typeof store.find>[0]) => (await store.find(q, { limit: 50 })).map((r) => r.msgId).sort();
      expect(await ids({ participant: "carol@acme.example" })).toEqual([envs[0]!.id, envs[1]!.id].sort());
      expect(await ids({ domain: "other.example" })).toEqual([envs[2]!.id]);
      expect(await ids({ participant: "dave@corp.test", since: base + 1000, until: base + 2000 })).toEqual([envs[1]!.id]);
      expect(await ids({ text: "friday" })).toEqual([envs[0]!.id, envs[1]!.id].sort());
      expect(await ids({ text: '"merger closes"' })).toEqual([envs[0]!.id]);
      expect(await ids({ text: '"closes merger"' })).toEqual([]);
      expect(await ids({ text: 'falcon OR) "( NEAR*' })).toEqual([]);
      expect(await ids({ verdict: "quarantine" })).toEqual([envs[2]!.id]);
      expect(await ids({ rule: "falcon" })).toEqual([envs[2]!.id]);
      expect(await ids({ thread: "deal" })).toEqual([envs[1]!.id, envs[2]!.id].sort());
      expect(await store.count({ domain: "acme.example" })).toBe(2);
      const page1 = await store.find({ participant: "dave@corp.test" }, { limit: 2 });
      const page2 = await store.find({ participant: "dave@corp.test" }, { limit: 2, afterSeq: page1[1]!.seq });
      expect([...page1, ...page2].map((r) => r.msgId).sort()).toEqual(envs.map((e) => e.id).sort());
    });

    it("keeps a hash chain that verify walks, and reports the first altered record", async () => {
      const ok = await verifyChain(store);
      expect(ok.ok).toBe(true);
      expect(ok.checked).toBe(4);
      expect(ok.head?.seq).toBe(4);
      await t.db("archive_message").where({ seq: 3 }).update({ body: "ok see you saturday" });
      const bad = await verifyChain(store);
      expect(bad.ok).toBe(false);
      expect(bad.broken).toEqual({ seq: 3, reason: expect.stringContaining("hash mismatch") });
      await t.db("archive_message").where({ seq: 3 }).update({ body: "ok see you friday" });
      expect((await verifyChain(store)).ok).toBe(true);
      await t.db("archive_message").where({ seq: 2 }).delete();
      expect((await verifyChain(store)).broken?.seq).toBe(2);
    });

    it("keeps one sequential chain when two writers append at once", async () => {
      const fresh = await open();
      try {
        const a = new KnexArchiveStore(fresh.db);
        const b = new KnexArchiveStore(fresh.db);
        const batches = Array.from({ length: 16 }, () => Array.from({ length: 50 }, () => envelope()).map((e) => toRecord(e, allow(e))));
        const results = await Promise.all(batches.map((batch, i) => (i % 2 ? a : b).append(batch)));
        expect(results.reduce((n, r) => n + r.inserted, 0)).toBe(800);
        expect(await verifyChain(a)).toMatchObject({ ok: true, checked: 800 });
      } finally {
        await fresh.close();
      }
    });

    it("finds the conversation between two people, rules that fired in shadow, and pages newest first", async () => {
      const base = Date.UTC(2024, 6, 1);
      const envs = [
        envelope({ receivedAt: base, from: "gil@corp.test/a", to: "hana@partner2.example", direction: "outbound", partnerDomain: "partner2.example", body: "numbers for q3" }),
        envelope({ receivedAt: base + 1000, from: "hana@partner2.example/b", to: "gil@corp.test", partnerDomain: "partner2.example", body: "thanks" }),
        envelope({ receivedAt: base + 2000, from: "ivan@partner2.example", to: "gil@corp.test", partnerDomain: "partner2.example", body: "hi" }),
      ];
      const shadow = { stage: "rules", ruleId: "watch-\"q3\"", action: "block", shadow: true } as const;
      await store.append(envs.map((e, i) => toRecord(e, allow(e, { verdicts: i === 0 ? [shadow] : [] }))));
      const ids = async (q: Parameters<typeof store.find>[0]) => (await store.find(q, { limit: 50 })).map((r) => r.msgId).sort();
      expect(await ids({ participant: "gil@corp.test", peer: "hana@partner2.example" })).toEqual([envs[0]!.id, envs[1]!.id].sort());
      // A rule that fired only in shadow is found too, by its whole id only.
      expect(await ids({ rule: 'watch-"q3"' })).toEqual([envs[0]!.id]);
      expect(await ids({ rule: "watch-" })).toEqual([]);
      const newest = await store.find({ participant: "gil@corp.test" }, { limit: 2, beforeSeq: Number.MAX_SAFE_INTEGER });
      expect(newest.map((r) => r.msgId)).toEqual([envs[2]!.id, envs[1]!.id]);
      const older = await store.find({ participant: "gil@corp.test" }, { limit: 2, beforeSeq: newest[1]!.seq });
      expect(older.map((r) => r.msgId)).toEqual([envs[0]!.id]);
    });
  });
}

export function retentionContract(name: string, open: () => Promise<TestDb>): void {
  describe(`archive retention contract: ${name}`, () => {
    let t: TestDb;
    let store: KnexArchiveStore;
    beforeAll(async () => {
      t = await open();
      store = new KnexArchiveStore(t.db);
    });
    afterAll(async () => {
      await t?.close();
    });

    it("purges content past retention, honours holds and rules, records the purge, and the chain still verifies", async () => {
      const now = Date.UTC(2030, 0, 1);
      const old = now - 400 * DAY;
      const e = [
        envelope({ receivedAt: old, from: "a@partner.example", to: "x@corp.test", body: "old plain" }),
        envelope({ receivedAt: old, from: "held@partner.example", to: "x@corp.test", body: "old held user" }),
        envelope({ receivedAt: old, from: "b@longkeep.example", to: "x@corp.test", partnerDomain: "longkeep.example", body: "old long rule" }),
        envelope({ receivedAt: old, from: "c@partner.example", to: "y@corp.test", body: "old litigation term" }),
        envelope({ receivedAt: now - 10 * DAY, from: "a@partner.example", to: "x@corp.test", body: "recent" }),
        envelope({ receivedAt: old, from: "d@frozen.example", to: "x@corp.test", partnerDomain: "frozen.example", body: "old frozen domain" }),
      ];
      await store.append(e.map((x) => toRecord(x, allow(x))));
      await store.addHold({ createdAt: now, createdBy: "sec", scope: "user", value: "held@partner.example", reason: "case 1" });
      await store.addHold({ createdAt: now, createdBy: "sec", scope: "search", value: JSON.stringify({ text: "litigation" }), reason: "case 2" });
      const dom = await store.addHold({ createdAt: now, createdBy: "sec", scope: "domain", value: "frozen.example", reason: null });
      const policy = { default_days: 365, rules: [{ name: "long", days: 3650, partners: ["longkeep.example"], participants: [] }] };
      const dry = await purge(store, policy, { now, actor: "sec", dryRun: true });
      expect(dry).toMatchObject({ purged: 1, held: 3, purgeId: undefined });
      const res = await purge(store, policy, { now, actor: "sec" });
      expect(res).toMatchObject({ purged: 1, held: 3, byRule: { default: 1 } });
      const left = (await store.find({}, { limit: 50 })).map((r) => r.body).sort();
      expect(left).toEqual(["old frozen domain", "old held user", "old litigation term", "old long rule", "recent"]);
      const purges = await store.purges();
      expect(purges).toHaveLength(1);
      expect(purges[0]).toMatchObject({ actor: "sec", purged: 1, held: 3 });
      const v = await verifyChain(store);
      expect(v).toMatchObject({ ok: true, checked: 6, purged: 1 });
      // Releasing the domain hold lets the next purge take that record too.
      expect(await store.releaseHold(dom, "sec", now)).toBe(true);
      expect(await store.releaseHold(dom, "sec", now)).toBe(false);
      expect((await purge(store, policy, { now, actor: "retention" })).purged).toBe(1);
      expect((await store.holds(true)).map((h) => h.scope).sort()).toEqual(["search", "user"]);
      expect((await store.holds(false))).toHaveLength(3);
      expect((await verifyChain(store)).ok).toBe(true);
    });

    it("serves the JM view in the seed's column shape and keeps an audit log", async () => {
      const rows = (await t.db("jm").select("*").where({ body_string: "recent" })) as Record<string, unknown>[];
      expect(rows).toHaveLength(1);
      expect(Object.keys(rows[0]!).sort()).toEqual(
        ["to_jid", "from_jid", "sent_date", "subject", "thread_id", "msg_type", "direction", "body_len", "message_len", "body_string", "message_string", "history_flag"].sort(),
      );
      expect(rows[0]).toMatchObject({ to_jid: "x@corp.test", from_jid: "a@partner.example", direction: "I", msg_type: "chat", history_flag: "N" });
      expect(Number(rows[0]!.body_len)).toBe(6);
      expect(String(rows[0]!.sent_date instanceof Date ? (rows[0]!.sent_date as Date).toISOString() : rows[0]!.sent_date)).toMatch(/^2029-12-22/);
      const purged = await t.db("jm").count({ n: "*" }).where({ body_string: null });
      expect(Number(purged[0]!.n)).toBe(0);
      await store.audit({ at: 1, actor: "sec", action: "search", query: '{"text":"x"}', result: 3 });
      await store.audit({ at: 2, actor: "ops", action: "verify", query: null, result: null });
      expect(await store.auditLog(10)).toMatchObject([
        { actor: "ops", action: "verify", query: null, result: null },
        { actor: "sec", action: "search", query: '{"text":"x"}', result: 3 },
      ]);
    });
  });
}
