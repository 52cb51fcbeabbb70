/**
 * Quarantine review on every archive back end (run by quarantine.sqlite.test.ts
 * and quarantine.pg.test.ts): pending lists, one review per record even when
 * two officers race, release rebuilding the held envelope, refusals, failed
 * deliveries going back to pending, the audit trail, and a chain that still
 * verifies with the release archived beside the hold.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KnexArchiveStore } from "../../src/archive/knex-store.js";
import { QuarantineDesk, type Redeliver } from "../../src/archive/quarantine.js";
import { toRecord } from "../../src/archive/record.js";
import { searchLine, threadLine } from "../../src/archive/session.js";
import { verifyChain } from "../../src/archive/verify.js";
import { purge } from "../../src/archive/retention.js";
import type { Envelope } from "../../src/model/envelope.js";
import type { Decision, RouteResult } from "../../src/model/route.js";
import { allow, envelope, type TestDb } from "./helpers.js";

const held = (e: Envelope, over: Partial<Decision> = {}): Decision => ({
  deliver: false,
  envelope: e,
  policyVersion: "pv-hold",
  quarantined: true,
  error: { condition: "policy-violation", type: "cancel" },
  verdicts: [{ stage: "rules", ruleId: "hold-merger", action: "quarantine", reason: "M&A talk is reviewed first" }],
  ...over,
});

export function quarantineContract(name: string, open: () => Promise<TestDb>): void {
  describe(`archive quarantine review: ${name}`, () => {
    let t: TestDb;
    let store: KnexArchiveStore;
    const sent: { original: Envelope; decision: Decision }[] = [];
    let answer: (e: Envelope) => RouteResult = (e) => ({ delivered: true, envelope: e });
    // Stands in for the router: what it would archive is appended, as Router.deliverDecided does.
    const redeliver: Redeliver = async (original, decision) => {
      sent.push({ original, decision });
      await store.append([toRecord(original, decision)]);
      return answer(decision.envelope);
    };
    let desk: QuarantineDesk;
    let now = Date.UTC(2024, 2, 1, 12);
    const inbound = envelope({
      from: "carl@partner.example/desk",
      to: "bob@corp.test",
      subject: "Deal",
      thread: "t-merger",
      body: "the merger, card 4111 1111 1111 1111",
      security: { tlsVersion: "TLSv1.3", auth: "certificate", certFingerprint: "AA:BB" },
    });

    beforeAll(async () => {
      t = await open();
      store = new KnexArchiveStore(t.db);
      desk = new QuarantineDesk(store, redeliver, () => now);
      const outbound = envelope({ direction: "outbound", from: "bob@corp.test/pc", to: "carl@partner.example", body: "merger draft" });
      const presence = envelope({ kind: "presence", type: undefined, body: undefined });
      const doomed = envelope({ body: "merger, to be purged" });
      const later = envelope({ direction: "outbound", from: "bob@corp.test", to: "x@gone.example", partnerDomain: "gone.example", body: "merger elsewhere" });
      const fine = envelope({ body: "nothing to see" });
      await store.append([
        toRecord(fine, allow(fine)),
        // A redaction ran before the hold: a release must deliver the redacted text.
        toRecord(inbound, held(inbound, { envelope: { ...inbound, body: "the merger, card [card number removed]" } })),
        toRecord(outbound, held(outbound)),
        toRecord(presence, held(presence)),
        toRecord(doomed, held(doomed)),
        toRecord(later, held(later)),
      ]);
    });
    afterAll(async () => {
      await t?.close();
    });

    it("lists quarantined records nobody has reviewed, oldest first, with paging", async () => {
      const all = await desk.pending("olga", { limit: 50 });
      expect(all.map((r) => r.seq)).toEqual([2, 3, 4, 5, 6]);
      expect(all[0]).toMatchObject({ verdict: "quarantine", ruleId: "hold-merger", deliveredBody: "the merger, card [card number removed]" });
      const page = await desk.pending("olga", { afterSeq: 3, limit: 2 });
      expect(page.map((r) => r.seq)).toEqual([4, 5]);
      expect((await store.auditLog(2)).map((a) => [a.actor, a.action, a.result])).toEqual([
        ["olga", "quarantine-list", 2],
        ["olga", "quarantine-list", 5],
      ]);
    });

    it("releases a record once: the held envelope goes out without compliance and its delivery is archived as released", async () => {
      now += 60_000;
      const o = await desk.release({ seq: 2, actor: "olga", comment: "cleared by legal" });
      expect(o.status).toBe("released");
      expect(sent).toHaveLength(1);
      const { original, decision } = sent[0]!;
      expect(original).toMatchObject({
        id: inbound.id,
        receivedAt: now,
        direction: "inbound",
        protocol: "xmpp",
        kind: "message",
        type: "chat",
        from: "carl@partner.example/desk",
        to: "bob@corp.test",
        partnerDomain: "partner.example",
        subject: "Deal",
        thread: "t-merger",
        body: "the merger, card 4111 1111 1111 1111",
        security: { tlsVersion: "TLSv1.3", auth: "certificate", certFingerprint: "AA:BB" },
        tags: ["released-from:2"],
      });
      expect(decision).toMatchObject({ deliver: true, policyVersion: "pv-hold", envelope: { body: "the merger, card [card number removed]", tags: ["released-from:2"] } });
      expect(decision.verdicts).toEqual([
        { stage: "review", ruleId: "hold-merger", action: "release", reason: "released by olga: cleared by legal", detail: "released-from:2" },
      ]);

      const again = await desk.release({ seq: 2, actor: "otto" });
      expect(again).toMatchObject({ status: "reviewed", message: expect.stringMatching(/^record #2 was already released by olga at 2024-03-01T12:01:00\.000Z \("cleared by legal"\)$/) });
      expect(await desk.reject({ seq: 2, actor: "otto" })).toMatchObject({ status: "reviewed" });
      expect(sent).toHaveLength(1);
      expect(await store.reviewOf(2)).toMatchObject({ seq: 2, decision: "released", actor: "olga", comment: "cleared by legal", at: now });

      // Both records are in the archive: the hold and, after it, the release.
      const trail = await store.find({ thread: "t-merger" }, { limit: 10 });
      expect(trail.map((r) => [r.seq, r.verdict, r.ruleId])).toEqual([[2, "quarantine", "hold-merger"], [7, "released", "hold-merger"]]);
      expect(trail[1]).toMatchObject({ body: "the merger, card 4111 1111 1111 1111", deliveredBody: "the merger, card [card number removed]", ts: now });
      expect(JSON.parse(trail[1]!.verdicts)).toEqual([
        { stage: "review", ruleId: "hold-merger", action: "release", reason: "released by olga: cleared by legal", shadow: false, detail: "released-from:2" },
      ]);
      expect((await store.find({ verdict: "released" }, { limit: 10 })).map((r) => r.seq)).toEqual([7]);
      expect(searchLine(trail[1]!)).toMatch(/^#7 \S+ inbound message carl@partner\.example\/desk -> bob@corp\.test \(released:hold-merger by olga\) \[Deal\] the merger/);
      expect(threadLine(trail[1]!)).toMatch(/^\S+Z carl@partner\.example\/desk \[released hold-merger by olga\]: the merger/);
      expect((await desk.pending("olga", { limit: 50 })).map((r) => r.seq)).toEqual([3, 4, 5, 6]);
      expect(await verifyChain(store)).toMatchObject({ ok: true, checked: 7 });
    });

    it("rejects a record once, and a rejected record cannot be released", async () => {
      const o = await desk.reject({ seq: 3, actor: "otto", comment: "not for partners" });
      expect(o).toMatchObject({ status: "rejected", review: { seq: 3, decision: "rejected", actor: "otto", comment: "not for partners" } });
      const r = await desk.release({ seq: 3, actor: "olga" });
      expect(r).toMatchObject({ status: "reviewed", message: expect.stringMatching(/^record #3 was already rejected by otto at .*\("not for partners"\)$/) });
      expect(sent).toHaveLength(1);
    });

    it("refuses unknown and unquarantined records, kinds it cannot re-send, and purged content", async () => {
      expect(await desk.release({ seq: 999, actor: "olga" })).toEqual({ status: "unknown", message: "no archived record #999" });
      expect(await desk.reject({ seq: 1, actor: "olga" })).toEqual({ status: "unknown", message: "record #1 was not quarantined (its verdict is allow)" });
      expect(await desk.release({ seq: 7, actor: "olga" })).toMatchObject({ status: "unknown", message: "record #7 was not quarantined (its verdict is released)" });
      expect(await desk.release({ seq: 4, actor: "olga" })).toMatchObject({ status: "unreleasable", message: expect.stringContaining("is a presence") });
      expect((await desk.reject({ seq: 4, actor: "olga" })).status).toBe("rejected");

      const purgeId = await store.recordPurge({ at: now, actor: "retention", rules: "{}", purged: 1, held: 0 });
      await store.tombstone([5], purgeId);
      expect((await desk.pending("olga", { limit: 50 })).map((r) => r.seq)).toEqual([6]);
      expect(await desk.release({ seq: 5, actor: "olga" })).toMatchObject({ status: "purged", message: expect.stringContaining("purged by retention") });
      expect(sent).toHaveLength(1);
      expect(await verifyChain(store)).toMatchObject({ ok: true, purged: 1 });
    });

    it("a delivery that fails leaves the record pending, and says why", async () => {
      answer = () => ({ delivered: false, error: { condition: "remote-server-not-found", type: "cancel", text: "gone.example unreachable" } });
      const o = await desk.release({ seq: 6, actor: "olga" });
      expect(o).toEqual({
        status: "failed",
        error: { condition: "remote-server-not-found", type: "cancel", text: "gone.example unreachable" },
        message: "record #6 could not be delivered to x@gone.example: remote-server-not-found (gone.example unreachable); it stays in quarantine",
      });
      expect(await store.reviewOf(6)).toBeUndefined();
      expect((await desk.pending("olga", { limit: 50 })).map((r) => r.seq)).toEqual([6]);
      answer = (e) => ({ delivered: true, envelope: e });
    });

    it("when two officers release at once, one delivery happens", async () => {
      const results = await Promise.all([desk.release({ seq: 6, actor: "olga" }), desk.release({ seq: 6, actor: "otto" })]);
      expect(results.map((r) => r.status).sort()).toEqual(["released", "reviewed"]);
      expect(sent.filter((s) => s.original.tags?.includes("released-from:6"))).toHaveLength(2); // the failed try, then one release
      expect(await desk.pending("olga", { limit: 50 })).toEqual([]);
    });

    it("keeps one review per record in the database itself, whoever inserts first", async () => {
      const e = envelope({ body: "merger, raced" });
      await store.append([toRecord(e, held(e))]);
      const pending = await store.pendingQuarantine(0, 1);
      expect(pending).toHaveLength(1);
      const seq = pending[0]!.seq;
      const tries = await Promise.all(
        ["a", "b", "c", "d"].map((actor) => store.addReview({ seq, at: now, decision: "rejected", actor, comment: null })),
      );
      expect(tries.filter((x) => x.created)).toHaveLength(1);
      const winner = tries.find((x) => x.created)!.review;
      expect(tries.every((x) => x.review.id === winner.id && x.review.actor === winner.actor)).toBe(true);
      expect(await store.pendingQuarantine(0, 10)).toEqual([]);
    });

    it("audits every review, refusal and failed delivery with the actor", async () => {
      const log = (await store.auditLog(100)).reverse().filter((a) => a.action !== "quarantine-list");
      expect(log.map((a) => `${a.actor} ${a.action} ${JSON.parse(a.query!).id}`)).toEqual([
        "olga quarantine-release 2",
        "otto quarantine-release-refused 2",
        "otto quarantine-reject-refused 2",
        "otto quarantine-reject 3",
        "olga quarantine-release-refused 3",
        "olga quarantine-release-refused 999",
        "olga quarantine-reject-refused 1",
        "olga quarantine-release-refused 7",
        "olga quarantine-release-refused 4",
        "olga quarantine-reject 4",
        "olga quarantine-release-refused 5",
        "olga quarantine-release-failed 6",
        expect.stringMatching(/^(olga|otto) quarantine-release(-refused)? 6$/),
        expect.stringMatching(/^(olga|otto) quarantine-release(-refused)? 6$/),
      ]);
      expect(JSON.parse(log[0]!.query!)).toEqual({ id: 2, comment: "cleared by legal" });
      expect(JSON.parse(log[11]!.query!)).toEqual({ id: 6, condition: "remote-server-not-found", text: "gone.example unreachable" });
      expect(await verifyChain(store)).toMatchObject({ ok: true, checked: 10 });
    });
  
    it("keeps a message waiting for review through a retention purge, and lets the next purge take it once rejected", async () => {
      const e = envelope({ receivedAt: Date.UTC(2020, 0, 1), body: "merger, waiting since 2020" });
      await store.append([toRecord(e, held(e))]);
      const [waiting] = await store.pendingQuarantine(0, 10);
      expect(waiting).toMatchObject({ body: "merger, waiting since 2020" });
      const policy = { default_days: 365, rules: [] };
      const later = Date.UTC(2030, 0, 1);
      const first = await purge(store, policy, { now: later, actor: "retention" });
      expect(first.held).toBe(1);
      expect((await store.find({ text: "waiting" }, { limit: 5 })).map((r) => r.body)).toEqual(["merger, waiting since 2020"]);
      expect(await desk.reject({ seq: waiting!.seq, actor: "olga", comment: "stale" })).toMatchObject({ status: "rejected" });
      const second = await purge(store, policy, { now: later, actor: "retention" });
      expect(second).toMatchObject({ purged: 1, held: 0 });
      expect(await store.find({ text: "waiting" }, { limit: 5 })).toEqual([]);
      expect((await verifyChain(store)).ok).toBe(true);
    });
  });
}
