import { describe, expect, it } from "vitest";
import { emptyItem, inbound, outbound } from "../../src/core/subscription.js";
import type { RosterItem, Subscription } from "../../src/core/types.js";

const item = (subscription: Subscription, extra: Partial<RosterItem> = {}): RosterItem => ({ ...emptyItem("c@x.test"), subscription, ...extra });

describe("RFC 6121 subscription state machine", () => {
  it("outbound subscribe creates the item with pending out and routes the request", () => {
    const t = outbound("subscribe", undefined, "c@x.test");
    expect(t.item).toMatchObject({ subscription: "none", ask: true, hidden: false });
    expect(t.forward).toBe(true);
    expect(t.changed).toBe(true);
  });

  it("outbound subscribe when already subscribed routes without pending out", () => {
    const t = outbound("subscribe", item("both"), "c@x.test");
    expect(t.item).toMatchObject({ subscription: "both", ask: false });
    expect(t.changed).toBe(false);
    expect(t.forward).toBe(true);
  });

  it("inbound subscribed completes none+ask -> to and from+ask -> both", () => {
    expect(inbound("subscribed", item("none", { ask: true }), "c@x.test").item).toMatchObject({ subscription: "to", ask: false });
    expect(inbound("subscribed", item("from", { ask: true }), "c@x.test").item).toMatchObject({ subscription: "both", ask: false });
  });

  it("inbound subscribed that was never asked for is ignored (3.1.6)", () => {
    const t = inbound("subscribed", item("none"), "c@x.test");
    expect(t.changed).toBe(false);
    expect(t.forward).toBe(false);
  });

  it("inbound subscribe stores pending in, hidden when not on the roster", () => {
    const t = inbound("subscribe", undefined, "c@x.test");
    expect(t.item).toMatchObject({ pendingIn: true, hidden: true, subscription: "none" });
    expect(t.forward).toBe(true);
  });

  it("inbound subscribe from a watcher is auto-approved (3.1.3)", () => {
    const t = inbound("subscribe", item("from"), "c@x.test");
    expect(t.autoReply).toBe("subscribed");
    expect(t.forward).toBe(false);
  });

  it("pre-approval: outbound subscribed without a request sets approved; the later request is approved by the server", () => {
    const pre = outbound("subscribed", item("to"), "c@x.test");
    expect(pre.item).toMatchObject({ approved: true, subscription: "to" });
    expect(pre.forward).toBe(false);
    const t = inbound("subscribe", pre.item, "c@x.test");
    expect(t.item).toMatchObject({ subscription: "both", approved: false });
    expect(t.autoReply).toBe("subscribed");
    expect(t.sendPresence).toBe(true);
  });

  it("outbound subscribed approves a pending request and sends presence", () => {
    const t = outbound("subscribed", item("to", { pendingIn: true }), "c@x.test");
    expect(t.item).toMatchObject({ subscription: "both", pendingIn: false });
    expect(t.forward).toBe(true);
    expect(t.sendPresence).toBe(true);
  });

  it("outbound unsubscribed cancels the contact's subscription and sends unavailable", () => {
    const t = outbound("unsubscribed", item("both"), "c@x.test");
    expect(t.item).toMatchObject({ subscription: "to" });
    expect(t.sendUnavailable).toBe(true);
    const deny = outbound("unsubscribed", item("none", { pendingIn: true }), "c@x.test");
    expect(deny.item).toMatchObject({ subscription: "none", pendingIn: false });
    expect(deny.sendUnavailable).toBe(false);
  });

  it("outbound unsubscribe drops 'to' and pending out", () => {
    expect(outbound("unsubscribe", item("both"), "c@x.test").item).toMatchObject({ subscription: "from" });
    expect(outbound("unsubscribe", item("none", { ask: true }), "c@x.test").item).toMatchObject({ subscription: "none", ask: false });
  });

  it("inbound unsubscribe drops 'from' and the contact loses our presence", () => {
    const t = inbound("unsubscribe", item("both"), "c@x.test");
    expect(t.item).toMatchObject({ subscription: "to" });
    expect(t.sendUnavailable).toBe(true);
    expect(inbound("unsubscribe", item("to"), "c@x.test").changed).toBe(false);
  });

  it("inbound unsubscribed drops 'to' or a pending request of ours", () => {
    expect(inbound("unsubscribed", item("both"), "c@x.test").item).toMatchObject({ subscription: "from" });
    expect(inbound("unsubscribed", item("none", { ask: true }), "c@x.test").item).toMatchObject({ subscription: "none", ask: false });
    expect(inbound("unsubscribed", item("from"), "c@x.test").forward).toBe(false);
  });
});
