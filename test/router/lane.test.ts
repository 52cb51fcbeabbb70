/**
 * The router's ordered lane: decisions may finish out of order, records still
 * reach the archive in sequence and all wait on one sync, nothing is
 * delivered before its record is durable, results settle in order, and the
 * stream is paused while the lane is full or the archive is behind.
 */
import { describe, expect, it } from "vitest";
import pino from "pino";
import { Router } from "../../src/router/router.js";
import type { Archiver, Compliance, Decision } from "../../src/model/route.js";
import type { Envelope } from "../../src/model/envelope.js";
import { until } from "../helpers/wait.js";

const env = (i: number): Envelope => ({
  id: `e${i}`,
  receivedAt: Date.now(),
  direction: "inbound",
  protocol: "xmpp",
  kind: "message",
  from: "a@bank.test",
  to: "b@corp.test",
  partnerDomain: "bank.test",
  body: String(i),
});

/** An archive whose syncs the test releases by hand, as one group commit would. */
class HeldArchive implements Archiver {
  readonly recorded: string[] = [];
  readonly synced = new Set<string>();
  behind = false;
  private waiting: Array<{ id: string; done: () => void }> = [];
  record(e: Envelope): Promise<void> {
    this.recorded.push(e.id);
    return new Promise((resolve) => this.waiting.push({ id: e.id, done: resolve }));
  }
  congested(): boolean {
    return this.behind;
  }
  sync(): number {
    const group = this.waiting.splice(0);
    for (const w of group) {
      this.synced.add(w.id);
      w.done();
    }
    return group.length;
  }
}

function setup() {
  const router = new Router({ log: pino({ level: "silent" }), protocolOf: () => "xmpp" });
  const archive = new HeldArchive();
  const delivered: string[] = [];
  router.useArchiver(archive);
  router.useInternal({
    async deliver(e) {
      // Durability first: a delivery whose record is not synced is a bug.
      expect(archive.synced.has(e.id)).toBe(true);
      delivered.push(e.id);
    },
  });
  return { router, archive, delivered };
}

const tick = () => new Promise((r) => setImmediate(r));

describe("ordered lane", () => {
  it("journals a stream's envelopes in order under one sync, and delivers them in order after it", async () => {
    const { router, archive, delivered } = setup();
    // The first decision is the slowest: order must come from the lane, not from timing.
    const slow: Compliance = {
      async evaluate(e) {
        if (e.id === "e1") await new Promise((r) => setTimeout(r, 30));
        return { deliver: true, envelope: e, policyVersion: "t", verdicts: [] } satisfies Decision;
      },
    };
    router.useCompliance(slow);
    const lane = router.lane();
    const results = Array.from({ length: 100 }, (_, i) => lane.route(env(i + 1)));
    const settled: number[] = [];
    results.forEach((p, i) => void p.then(() => settled.push(i + 1)));
    await until(() => archive.recorded.length >= 100, 5_000, "100 records archived");
    expect(archive.recorded).toEqual(Array.from({ length: 100 }, (_, i) => `e${i + 1}`));
    expect(delivered).toEqual([]);
    expect(archive.sync()).toBe(100);
    const all = await Promise.all(results);
    expect(all.every((r) => r.delivered)).toBe(true);
    expect(delivered).toEqual(archive.recorded);
    expect(settled).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    expect(router.flow.depth).toBe(0);
  });

  it("pauses the stream at the high mark and resumes it at the low mark", async () => {
    const { router, archive } = setup();
    const calls: string[] = [];
    const lane = router.lane({ high: 10, low: 3, pause: () => calls.push("pause"), resume: () => calls.push("resume") });
    const results = Array.from({ length: 10 }, (_, i) => lane.route(env(i)));
    expect(calls).toEqual(["pause"]);
    await tick();
    archive.sync();
    await Promise.all(results);
    expect(calls).toEqual(["pause", "resume"]);
  });

  it("pauses while the archive is behind and resumes once it catches up, losing nothing", async () => {
    const { router, archive, delivered } = setup();
    const calls: string[] = [];
    const lane = router.lane({ pause: () => calls.push("pause"), resume: () => calls.push("resume") });
    archive.behind = true;
    const first = lane.route(env(1));
    expect(calls).toEqual(["pause"]);
    await tick();
    archive.sync();
    await first;
    expect(calls).toEqual(["pause"]);
    archive.behind = false;
    await until(() => calls.length >= 2, 2_000, "the resume call").catch(() => undefined);
    expect(calls).toEqual(["pause", "resume"]);
    expect(delivered).toEqual(["e1"]);
  });

  it("refuses an envelope the archive could not take, and goes on with the next in order", async () => {
    const router = new Router({ log: pino({ level: "silent" }), protocolOf: () => "xmpp" });
    const delivered: string[] = [];
    let n = 0;
    router.useArchiver({
      async record() {
        if (++n === 2) throw new Error("disk full");
      },
    });
    router.useInternal({
      async deliver(e) {
        delivered.push(e.id);
      },
    });
    const lane = router.lane();
    const results = await Promise.all([1, 2, 3].map((i) => lane.route(env(i))));
    expect(results.map((r) => r.delivered)).toEqual([true, false, true]);
    expect(results[1]).toMatchObject({ error: { condition: "internal-server-error" } });
    expect(delivered).toEqual(["e1", "e3"]);
  });
});
