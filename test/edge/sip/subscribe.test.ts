/**
 * Subscription dialogs as notifier (RFC 6665, RFC 3856): refresh, unsubscribe,
 * expiry, and the refusals (489, 423, 481), over a raw TCP peer.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SipMessage } from "sip";
import { startEdge, type EdgeHarness } from "./harness.js";
import { until } from "../../helpers/wait.js";
import { RawSip, rawRequest } from "./raw-client.js";
import { response } from "../../../src/edge/sip/message.js";
import sip from "sip";

const ADDR = "127.0.8.6";
let h: EdgeHarness;

beforeAll(async () => {
  h = await startEdge({ address: ADDR, partners: [{ domain: "partner.test", protocol: "sip", profile: "aol" }], sip: { subscriptions: { min_expires_s: 2 } } });
});
afterAll(async () => h?.close());

const subscribe = (extra: string[], o: { callId?: string; toTag?: string; cseq?: number } = {}) => {
  let raw = rawRequest({ method: "SUBSCRIBE", callId: o.callId, extra: ["Event: presence", "Accept: application/pidf+xml", "Contact: <sip:alice@127.0.8.7:5060;transport=tcp>", ...extra] });
  if (o.toTag) raw = raw.replace(/^To: (.*)$/m, `To: $1;tag=${o.toTag}`);
  if (o.cseq) raw = raw.replace(/^CSeq: 1 /m, `CSeq: ${o.cseq} `);
  return raw;
};

/** Answers a NOTIFY from demarc with 200, as a watcher must. */
function ack(c: RawSip, n: SipMessage): void {
  c.write(sip.stringify(response(n, 200, "OK")));
}

describe("SUBSCRIBE as notifier", () => {
  it("refuses other event packages (489) and too-brief intervals (423 with Min-Expires)", async () => {
    const c = await RawSip.tcp(ADDR, h.edge.ports.TCP!, "127.0.8.7");
    c.write(rawRequest({ method: "SUBSCRIBE", extra: ["Event: dialog"] }));
    const bad = await c.next();
    expect(bad.status).toBe(489);
    expect(String(bad.headers["allow-events"])).toBe("presence");
    c.write(subscribe(["Expires: 1"]));
    const brief = await c.next();
    expect(brief.status).toBe(423);
    expect(String(brief.headers["min-expires"])).toBe("2");
    c.close();
  });

  it("answers 481 to a refresh for a dialog that does not exist", async () => {
    const c = await RawSip.tcp(ADDR, h.edge.ports.TCP!, "127.0.8.7");
    c.write(subscribe(["Expires: 60"], { toTag: "nosuch" }));
    expect((await c.next()).status).toBe(481);
    c.close();
  });

  it("sends pending at once, active after approval, refreshes, and terminates on Expires: 0", async () => {
    const c = await RawSip.tcp(ADDR, h.edge.ports.TCP!, "127.0.8.7");
    const callId = `sub-${Date.now()}@partner.test`;
    c.write(subscribe(["Expires: 120"], { callId }));
    const ok = await c.next((m) => m.status !== undefined);
    expect(ok.status).toBe(200);
    expect(String(ok.headers.expires)).toBe("120");
    const toTag = ok.headers.to!.params.tag!;
    const first = await c.next((m) => m.method === "NOTIFY");
    expect(String(first.headers["subscription-state"])).toMatch(/^pending;expires=1[12]\d$/);
    expect(first.content ?? "").toBe("");
    ack(c, first);
    expect(h.recorder.delivered.at(-1)).toMatchObject({ kind: "subscription", type: "subscribe", from: "alice@partner.test", to: "bob@corp.test" });

    // The core approves: subscribed, then bob's presence.
    const route = (fields: object) =>
      h.ctx.router.route({ id: `x${Math.random()}`, receivedAt: Date.now(), direction: "outbound", protocol: "internal", from: "bob@corp.test", to: "alice@partner.test", partnerDomain: "partner.test", kind: "subscription", ...fields } as never);
    // route() resolves once the NOTIFY's transaction completes, so answer before awaiting it.
    const approved = route({ kind: "subscription", type: "subscribed" });
    const active = await c.next((m) => m.method === "NOTIFY");
    expect(String(active.headers["subscription-state"])).toMatch(/^active;/);
    expect(String(active.headers["content-type"])).toBe("application/pidf+xml");
    ack(c, active);
    expect(await approved).toMatchObject({ delivered: true });
    const update = route({ kind: "presence", presence: { state: "busy", note: "deadline" } });
    const busy = await c.next((m) => m.method === "NOTIFY");
    expect(busy.content).toContain("<rpid:away/>");
    expect(busy.content).toContain("deadline");
    expect(busy.headers.cseq!.seq).toBeGreaterThan(active.headers.cseq!.seq);
    ack(c, busy);
    expect(await update).toMatchObject({ delivered: true });

    // Refresh in the dialog: 200 and a NOTIFY with the current state.
    c.write(subscribe(["Expires: 300"], { callId, toTag, cseq: 2 }));
    const refreshed = await c.next((m) => m.status !== undefined);
    expect(refreshed.status).toBe(200);
    expect(String(refreshed.headers.expires)).toBe("300");
    const again = await c.next((m) => m.method === "NOTIFY");
    expect(String(again.headers["subscription-state"])).toMatch(/^active;expires=(29\d|300)$/);
    ack(c, again);

    // Unsubscribe.
    c.write(subscribe(["Expires: 0"], { callId, toTag, cseq: 3 }));
    expect((await c.next((m) => m.status !== undefined)).status).toBe(200);
    const last = await c.next((m) => m.method === "NOTIFY");
    expect(String(last.headers["subscription-state"])).toBe("terminated;reason=timeout");
    ack(c, last);
    await until(() => h.recorder.delivered.find((e) => e.kind === "subscription" && e.type === "unsubscribe"), 2_000, "unsubscribe routed");
    expect(h.edge.dialogs.get(callId, toTag)).toBeUndefined();
    c.close();
  });

  it("ends an unrefreshed subscription with terminated;reason=timeout when it expires", async () => {
    const c = await RawSip.tcp(ADDR, h.edge.ports.TCP!, "127.0.8.7");
    c.write(subscribe(["Expires: 2"]));
    expect((await c.next((m) => m.status !== undefined)).status).toBe(200);
    ack(c, await c.next((m) => m.method === "NOTIFY"));
    const end = await c.next((m) => m.method === "NOTIFY", 4_000);
    expect(String(end.headers["subscription-state"])).toBe("terminated;reason=timeout");
    c.close();
  });
});
