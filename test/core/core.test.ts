import { describe, expect, it } from "vitest";
import { CoreError } from "../../src/core/errors.js";
import { PresencePolicy } from "../../src/core/policy.js";
import type { Envelope } from "../../src/model/envelope.js";
import { Sink, makeCore, online, settle } from "./helpers.js";

const A = "alice@corp.test";
const B = "bob@corp.test";
const C = "carol@corp.test";

async function befriend(core: Awaited<ReturnType<typeof makeCore>>["core"], x: string, y: string) {
  const sx = await core.connect(x, "setup", new Sink());
  const sy = await core.connect(y, "setup", new Sink());
  await sx.subscription(y, "subscribe");
  await sy.subscription(x, "subscribed");
  await sy.subscription(x, "subscribe");
  await sx.subscription(y, "subscribed");
  sx.close();
  sy.close();
}

describe("presence core: subscriptions and presence", () => {
  it("runs a subscription handshake with roster pushes and presence on approval", async () => {
    const { core, store } = await makeCore([A, B]);
    const a = await online(core, A, "desk");
    const b = await online(core, B, "desk");
    await a.s.subscription(B, "subscribe");
    expect(a.sink.of("roster-push").at(-1)?.item).toMatchObject({ jid: B, subscription: "none", ask: true });
    expect(b.sink.of("subscription")).toEqual([{ kind: "subscription", from: A, type: "subscribe" }]);
    a.sink.take();
    await b.s.subscription(A, "subscribed");
    expect(b.sink.of("roster-push").at(-1)?.item).toMatchObject({ jid: A, subscription: "from", hidden: false });
    expect(a.sink.of("subscription")).toEqual([{ kind: "subscription", from: B, type: "subscribed" }]);
    expect(a.sink.of("roster-push").at(-1)?.item).toMatchObject({ jid: B, subscription: "to", ask: false });
    // RFC 6121 3.1.5: the approving side sends its presence at once.
    expect(a.sink.of("presence")).toContainEqual({ kind: "presence", from: `${B}/desk`, presence: { state: "available" } });
    expect((await store.loadRoster(A)).find((i) => i.jid === B)).toMatchObject({ subscription: "to" });
    expect((await store.loadRoster(B)).find((i) => i.jid === A)).toMatchObject({ subscription: "from" });
  });

  it("broadcasts to watchers, probes at login, and sends unavailable when the last device leaves", async () => {
    const { core } = await makeCore([A, B]);
    await befriend(core, A, B);
    const b = await online(core, B, "desk");
    const a1 = await online(core, A, "desk");
    // The probe answer: B's presence arrives at A's new device.
    expect(a1.sink.of("presence")).toContainEqual({ kind: "presence", from: `${B}/desk`, presence: { state: "available" } });
    expect(b.sink.of("presence")).toContainEqual({ kind: "presence", from: `${A}/desk`, presence: { state: "available" } });
    const a2 = await online(core, A, "phone");
    // RFC 6121 4.2.2: the new resource learns about the user's other resource.
    expect(a2.sink.of("presence")).toContainEqual({ kind: "presence", from: `${A}/desk`, presence: { state: "available" } });
    b.sink.take();
    await a1.s.presence({ state: "away", note: "lunch" }, 0);
    expect(b.sink.take()).toEqual([{ kind: "presence", from: `${A}/desk`, presence: { state: "away", note: "lunch" } }]);
    a1.s.close();
    expect(b.sink.take()).toEqual([{ kind: "presence", from: `${A}/desk`, type: "unavailable" }]);
    expect(core.presenceOf(A).state).toBe("available");
    a2.s.close();
    expect(core.presenceOf(A).state).toBe("offline");
  });

  it("screens a status line once before local watchers see it: refused is withheld, redacted travels redacted", async () => {
    const screened: Envelope[] = [];
    const { core } = await makeCore([A, B], {
      async screen(e) {
        screened.push(e);
        if (e.presence?.note?.includes("merger")) return undefined;
        return { ...e, presence: { ...e.presence!, note: e.presence!.note!.replace("4111", "####") } };
      },
    });
    await befriend(core, A, B);
    const b = await online(core, B, "desk");
    const a = await online(core, A, "desk");
    b.sink.take();
    screened.length = 0;
    await a.s.presence({ state: "busy", note: "the merger call" }, 0);
    expect(b.sink.take()).toEqual([{ kind: "presence", from: `${A}/desk`, presence: { state: "busy" } }]);
    expect(screened).toEqual([expect.objectContaining({ direction: "internal", kind: "presence", from: `${A}/desk`, to: A })]);
    await a.s.presence({ state: "away", note: "card 4111" }, 0);
    expect(b.sink.take()).toEqual([{ kind: "presence", from: `${A}/desk`, presence: { state: "away", note: "card ####" } }]);
    // No status, nothing to screen.
    await a.s.presence({ state: "available" }, 0);
    expect(screened).toHaveLength(2);
  });

  it("phone and calendar sources overlay what watchers see", async () => {
    const { core } = await makeCore([A, B]);
    await befriend(core, A, B);
    const b = await online(core, B, "desk");
    await online(core, A, "desk");
    b.sink.take();
    await core.setSource(A, "phone", { state: "on-the-phone" });
    expect(b.sink.take()).toEqual([{ kind: "presence", from: `${A}/desk`, presence: { state: "on-the-phone" } }]);
    expect(core.presenceOf(A).state).toBe("on-the-phone");
    await core.setSource(A, "phone", undefined);
    expect(core.presenceOf(A).state).toBe("available");
  });

  it("directed presence reaches a non-contact and is followed by unavailable", async () => {
    const { core } = await makeCore([A, C]);
    const a = await online(core, A, "desk");
    const c = await online(core, C, "desk");
    await a.s.directed(C, { state: "available" });
    expect(c.sink.of("presence")).toContainEqual({ kind: "presence", from: `${A}/desk`, presence: { state: "available" } });
    c.sink.take();
    a.s.close();
    await settle();
    expect(c.sink.of("presence")).toEqual([{ kind: "presence", from: `${A}/desk`, type: "unavailable" }]);
  });

  it("delivers a subscription request that waited to the next login", async () => {
    const { core } = await makeCore([A, B]);
    const a = await online(core, A, "desk");
    await a.s.subscription(B, "subscribe");
    const b = await online(core, B, "desk");
    expect(b.sink.of("subscription")).toEqual([{ kind: "subscription", from: A, type: "subscribe" }]);
    expect(b.s.roster().map((i) => i.jid)).not.toContain(A); // pending-in is not a roster item
  });
});

describe("presence core: multi-device routing, carbons, offline", () => {
  it("first message to all devices, then pinned to the device that answered, until another answers", async () => {
    const { core } = await makeCore([A, B]);
    const a = await online(core, A, "desk");
    const b1 = await online(core, B, "desk", 1);
    const b2 = await online(core, B, "laptop", 0);
    const b3 = await online(core, B, "pager", -1);
    const send = (body: string) => a.s.message({ to: B, type: "chat", body });
    expect((await send("one")).delivered).toBe(true);
    expect([b1.sink.bodies(), b2.sink.bodies(), b3.sink.bodies()]).toEqual([["one"], ["one"], []]);
    await b2.s.message({ to: A, type: "chat", body: "reply from laptop" });
    await send("two");
    expect([b1.sink.bodies(), b2.sink.bodies()]).toEqual([["one"], ["one", "two"]]);
    await b1.s.message({ to: A, type: "chat", body: "now from desk" });
    await send("three");
    expect([b1.sink.bodies(), b2.sink.bodies()]).toEqual([["one", "three"], ["one", "two"]]);
    b1.s.close(); // the pinned device left: back to all devices
    await send("four");
    expect(b2.sink.bodies()).toEqual(["one", "two", "four"]);
  });

  it("copies chat messages to carbon-enabled resources, sent and received, except private ones", async () => {
    const { core } = await makeCore([A, B]);
    const a = await online(core, A, "desk");
    const b1 = await online(core, B, "desk");
    const b2 = await online(core, B, "phone");
    b2.s.carbons(true);
    await b1.s.message({ to: A, type: "chat", body: "hi" }); // pins A's conversation to b1
    await a.s.message({ to: B, type: "chat", body: "back" });
    const carbons = b2.sink.of("message").filter((m) => m.carbon);
    expect(carbons.map((m) => [m.carbon, m.envelope.body])).toEqual([["sent", "hi"], ["received", "back"]]);
    await b1.s.message({ to: A, type: "chat", body: "secret", private: true });
    expect(b2.sink.of("message").filter((m) => m.carbon)).toHaveLength(2);
  });

  it("stores messages for an offline user and delivers them at login", async () => {
    const { core, store } = await makeCore([A, B]);
    const a = await online(core, A, "desk");
    await a.s.message({ to: B, type: "chat", body: "while you were out" });
    await a.s.message({ to: B, type: "headline", body: "not stored" });
    expect(await store.countOffline(B)).toBe(1);
    const b = await online(core, B, "desk");
    expect(b.sink.bodies()).toEqual(["while you were out"]);
    expect(await store.countOffline(B)).toBe(0);
  });

  it("refuses to store more than the offline limit, with service-unavailable", async () => {
    const { core, store } = await makeCore([A, B], { limits: { maxOffline: 2 } });
    const a = await online(core, A, "desk");
    for (const body of ["1", "2"]) expect((await a.s.message({ to: B, type: "chat", body })).delivered).toBe(true);
    expect(await a.s.message({ to: B, type: "chat", body: "3" })).toMatchObject({
      delivered: false,
      error: { condition: "service-unavailable", text: `${B} has too many stored messages` },
    });
    expect(await store.countOffline(B)).toBe(2);
  });

  it("refuses messages to unknown users and malformed addresses", async () => {
    const { core } = await makeCore([A]);
    const a = await online(core, A, "desk");
    expect(await a.s.message({ to: "nobody@corp.test", type: "chat", body: "x" })).toMatchObject({ delivered: false, error: { condition: "service-unavailable" } });
    await expect(a.s.message({ to: "a@b@c", body: "x" })).rejects.toMatchObject({ condition: "jid-malformed" });
  });
});

describe("presence core: routing through the router", () => {
  it("sends hosted traffic as internal and partner traffic as outbound; the router delivers back through deliver()", async () => {
    const seen: Envelope[] = [];
    const holder: { core?: Awaited<ReturnType<typeof makeCore>>["core"] } = {};
    const { core } = await makeCore([A, B], {
      route: async (e) => {
        seen.push(e);
        if (e.direction === "outbound") return { delivered: false, error: { condition: "remote-server-not-found", type: "cancel" } };
        await holder.core!.deliver(e);
        return { delivered: true, envelope: e };
      },
    });
    holder.core = core;
    const a = await online(core, A, "desk");
    const b = await online(core, B, "desk");
    await a.s.message({ to: B, type: "chat", body: "in" });
    await a.s.message({ to: "x@partner.test", type: "chat", body: "out" });
    expect(seen.map((e) => [e.kind, e.direction, e.partnerDomain])).toEqual([
      ["message", "internal", undefined],
      ["message", "outbound", "partner.test"],
    ]);
    expect(b.sink.bodies()).toEqual(["in"]);
    // Inbound from a partner: delivered, never routed again.
    await core.deliver({ ...seen[1]!, id: "x", direction: "inbound", from: "x@partner.test/r", to: B, body: "from partner" });
    expect(b.sink.bodies()).toEqual(["in", "from partner"]);
    expect(seen).toHaveLength(2);
  });

  it("sends the aggregate to partner watchers from the bare JID, only when it changes", async () => {
    const seen: Envelope[] = [];
    const { core, store } = await makeCore([A], { route: async (e) => (seen.push(e), { delivered: true, envelope: e }) });
    await store.putItem(A, { jid: "p@partner.test", groups: [], subscription: "both", ask: false, pendingIn: false, approved: false, hidden: false });
    const a1 = await online(core, A, "desk");
    const a2 = await online(core, A, "phone");
    await a2.s.presence({ state: "idle" }, 0);
    await a1.s.presence({ state: "idle" }, 0);
    await settle();
    const presences = seen.filter((e) => e.kind === "presence" && e.type !== "probe");
    expect(presences.map((e) => [e.from, e.presence?.state, e.partnerDomain])).toEqual([
      [A, "available", "partner.test"],
      [A, "idle", "partner.test"],
    ]);
    expect(seen.filter((e) => e.type === "probe")).toHaveLength(2);
  });
});

describe("presence core: limits and policy", () => {
  it("refuses the contact over the limit with a clear error", async () => {
    const { core } = await makeCore([A], { limits: { maxContacts: 2 } });
    const a = await online(core, A, "desk");
    await a.s.rosterSet("x1@corp.test", "X1", []);
    await a.s.subscription("x2@partner.test", "subscribe");
    const err = await a.s.rosterSet("x3@corp.test", undefined, []).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CoreError);
    expect(err).toMatchObject({ condition: "resource-constraint", text: "contact list is full: at most 2 contacts per user" });
    await a.s.rosterSet("x1@corp.test", "renamed", ["g"]); // updating an existing item is fine
  });

  it("refuses a watcher over the limit, at the subscriber and at approval", async () => {
    const { core } = await makeCore([A, B, C], { limits: { maxWatchers: 1 } });
    await befriend(core, A, B);
    const c = await online(core, C, "desk");
    await expect(c.s.subscription(A, "subscribe")).rejects.toMatchObject({ condition: "resource-constraint", text: `${A} already has the maximum of 1 watchers` });
  });

  it("refuses the approval that would take a user over the watcher limit, keeping the request pending", async () => {
    const { core } = await makeCore([A, B, C], { limits: { maxWatchers: 1 } });
    const c = await online(core, C, "desk");
    // carol asks first, while alice has no watcher; bob then takes the one place.
    await c.s.subscription(A, "subscribe");
    await befriend(core, A, B);
    const a = await online(core, A, "phone");
    await expect(a.s.subscription(C, "subscribed")).rejects.toMatchObject({ condition: "resource-constraint", text: `${A} already has the maximum of 1 watchers` });
    expect(a.s.roster().find((i) => i.jid === C)?.subscription ?? "none").toBe("none");
    expect(c.s.roster().find((i) => i.jid === A)).toMatchObject({ subscription: "none", ask: true });
  });

  it("presence groups: contractors may not watch executives, executives may watch contractors", async () => {
    const policy = new PresencePolicy({
      groups: { executives: { members: [A] }, contractors: { members: ["*@corp.test"] } },
      watchRules: [
        { watcher: "contractors", watched: "executives", allow: false },
        { watcher: "*", watched: "*", allow: true },
      ],
      defaultAllow: true,
    });
    // A is in both groups by the wildcard; make the executive rule win for A by listing B as contractor only.
    const strict = new PresencePolicy({
      groups: { executives: { members: [A] }, contractors: { members: [C] } },
      watchRules: [{ watcher: "contractors", watched: "executives", allow: false }],
      defaultAllow: true,
    });
    expect(policy.groupsOf(A)).toEqual(["executives", "contractors"]);
    const { core } = await makeCore([A, C], { policy: strict });
    const a = await online(core, A, "desk");
    const c = await online(core, C, "desk");
    await expect(c.s.subscription(A, "subscribe")).rejects.toMatchObject({ condition: "forbidden", text: "presence policy: contractors may not watch executives" });
    await a.s.subscription(C, "subscribe");
    await c.s.subscription(A, "subscribed");
    expect(a.s.roster().find((i) => i.jid === C)).toMatchObject({ subscription: "to" });
  });

  it("a blocked watcher gets unavailable, no further presence, and cannot message", async () => {
    const { core, store } = await makeCore([A, B]);
    await befriend(core, A, B);
    const a = await online(core, A, "desk");
    const b = await online(core, B, "desk");
    b.sink.take();
    await a.s.block([B]);
    expect(b.sink.take()).toEqual([{ kind: "presence", from: `${A}/desk`, type: "unavailable" }]);
    await a.s.presence({ state: "busy" }, 0);
    expect(b.sink.take()).toEqual([]);
    expect(await b.s.message({ to: A, type: "chat", body: "hello?" })).toMatchObject({ delivered: false, error: { condition: "service-unavailable" } });
    expect(await a.s.message({ to: B, type: "chat", body: "x" })).toMatchObject({ delivered: false, error: { condition: "not-acceptable" } });
    expect(await store.loadBlocks(A)).toEqual([B]);
    await a.s.unblock([]);
    expect(b.sink.of("presence")).toContainEqual({ kind: "presence", from: `${A}/desk`, presence: { state: "busy" } });
  });

  it("a second login with the same resource takes over with conflict", async () => {
    const { core } = await makeCore([A]);
    const first = await online(core, A, "desk");
    const second = await online(core, A, "desk");
    expect(first.sink.of("closed")).toEqual([{ kind: "closed", reason: "conflict" }]);
    expect(first.s.active).toBe(false);
    expect(second.s.active).toBe(true);
  });

  it("roster removal cancels both directions", async () => {
    const { core } = await makeCore([A, B]);
    await befriend(core, A, B);
    const a = await online(core, A, "desk");
    const b = await online(core, B, "desk");
    await a.s.rosterRemove(B);
    expect(a.s.roster()).toEqual([]);
    // RFC 6121 2.5.2: the contact keeps the item, with no subscription left either way.
    expect(b.s.roster().find((i) => i.jid === A)).toMatchObject({ subscription: "none", ask: false });
    await expect(a.s.rosterRemove(B)).rejects.toMatchObject({ condition: "item-not-found" });
  });
});
