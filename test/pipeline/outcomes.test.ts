import { describe, expect, it } from "vitest";
import type { OutcomeEntry } from "../../src/model/outcome.js";
import { Router } from "../../src/router/router.js";
import { DeliveryFailure, type Decision } from "../../src/model/route.js";
import { envelope, memoryLog, pipelineFor } from "./fixtures.js";

/** A router with a recorder, an internal target that does what `next` says, and no remote target. */
function routerWith(policy: string) {
  const told: OutcomeEntry[] = [];
  let next: () => Promise<void | { outcome: "stored-offline" | "discarded" }> = async () => undefined;
  const router = new Router({ log: memoryLog().log, protocolOf: () => "xmpp" });
  router.useCompliance(pipelineFor({ "10.yaml": policy }));
  router.useArchiver({ record: async () => undefined });
  router.useInternal({ deliver: () => next() });
  router.useOutcomes({ record: (e) => void told.push(e) });
  return { router, told, set: (f: typeof next) => (next = f) };
}

const inbound = (body: string) => envelope({ direction: "inbound", from: "bob@partner.example", to: "alice@corp.example", body });

describe("delivery outcomes told by the router", () => {
  it("delivered, stored offline, discarded, bounced, held, blocked and refused for want of a route", async () => {
    const r = routerWith("kind: policy\nrules:\n  - id: hold\n    when: { words: [merger] }\n    then: { action: quarantine }\n  - id: stop\n    when: { words: [osprey] }\n    then: { action: block }\n");
    const fate = async (e: ReturnType<typeof envelope>) => {
      const result = await r.router.route(e);
      expect(r.told.at(-1)!.msgId).toBe(e.id);
      return { result, told: r.told.at(-1)! };
    };
    expect((await fate(inbound("hi"))).told).toMatchObject({ outcome: "delivered" });
    r.set(async () => ({ outcome: "stored-offline" }));
    expect((await fate(inbound("later"))).told).toMatchObject({ outcome: "stored-offline" });
    r.set(async () => ({ outcome: "discarded" }));
    expect((await fate(inbound("news"))).told).toMatchObject({ outcome: "discarded" });
    r.set(async () => {
      throw new DeliveryFailure({ condition: "service-unavailable", type: "cancel" });
    });
    const bounced = await fate(inbound("nobody home"));
    expect(bounced.told).toMatchObject({ outcome: "bounced", condition: "service-unavailable" });
    expect(bounced.result).toEqual({ delivered: false, error: { condition: "service-unavailable", type: "cancel" } });
    expect((await fate(inbound("merger talk"))).told).toMatchObject({ outcome: "held", condition: "policy-violation" });
    expect((await fate(inbound("osprey"))).told).toMatchObject({ outcome: "blocked", condition: "policy-violation" });
    // Outbound with no remote target: our routing has nowhere to send it.
    expect((await fate(envelope({ body: "to a partner" }))).told).toMatchObject({ outcome: "refused", condition: "service-unavailable", detail: "no route" });
  });

  it("a release is released then delivered; a release that fails stays held (only bounced is told)", async () => {
    const r = routerWith("kind: policy\n");
    const e = inbound("cleared");
    const decision: Decision = { deliver: true, envelope: e, policyVersion: "p", verdicts: [{ stage: "review", action: "release", reason: "released by olga" }] };
    await r.router.deliverDecided(e, decision);
    expect(r.told.map((t) => [t.outcome, t.detail])).toEqual([["released", "released by olga"], ["delivered", undefined]]);
    r.told.length = 0;
    r.set(async () => {
      throw new DeliveryFailure({ condition: "remote-server-timeout", type: "wait" });
    });
    await r.router.deliverDecided(e, decision);
    expect(r.told.map((t) => t.outcome)).toEqual(["bounced"]);
  });
});
