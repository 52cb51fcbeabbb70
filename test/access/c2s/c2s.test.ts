import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startBench, login, xml, isMsg, ScramSha256Client, type Bench, type User } from "./helpers.js";
import { until } from "../../helpers/wait.js";
import type { Element } from "../../../src/xmpp/xml.js";

const ADDRESS = "127.0.4.1";
let b: Bench;
const users: User[] = [];
async function as(local: string, o: Parameters<typeof login>[2] = {}) {
  const u = await login(b, local, o);
  users.push(u);
  return u;
}
const presenceFrom = (from: string, type?: string) => (el: Element) => el.name === "presence" && el.attrs.from === from && el.attrs.type === type;
/** The condition and text of an error stanza, or of the error element an IQ request rejected with. */
const errorOf = (el: Element) => (el.name === "error" ? el : el.getChild("error"));
const errorCondition = (el: Element) => errorOf(el)?.getChildElements()[0]?.name;
const errorText = (el: Element) => errorOf(el)?.getChildText("text");

beforeAll(async () => {
  b = await startBench(ADDRESS, {
    core: {
      max_contacts: 3,
      groups: { executives: { members: ["ceo@corp.test"] }, contractors: { members: ["temp@corp.test"] } },
      watch_rules: [{ watcher: "contractors", watched: "executives", allow: false }],
    },
  });
  for (const u of ["alice", "bob", "carol", "dave", "ceo", "temp"]) await b.addUser(u);
});

afterAll(async () => {
  for (const u of users) await u.stop();
  await b?.close();
});

describe("c2s login", () => {
  it("logs in over STARTTLS with SCRAM-SHA-1 and binds the requested resource", async () => {
    const a = await as("alice", { resource: "desk" });
    expect(a.jid).toBe("alice@corp.test/desk");
    expect(a.mechanism).toBe("SCRAM-SHA-1");
    expect(a.saslSuccess).toMatch(/^v=[A-Za-z0-9+/]{27}=$/);
    expect(a.xmpp.socket.socket.getProtocol()).toMatch(/^TLSv1\.[23]$/);
    const roster = await a.iq(xml("iq", { type: "get" }, xml("query", { xmlns: "jabber:iq:roster" })));
    expect(roster.getChild("query")?.getChildren("item")).toEqual([]);
    await a.stop();
  });

  it("logs in over direct TLS with SCRAM-SHA-256 and the server proves it knows the credential", async () => {
    const u = await login(b, "bob", { direct: true, scram256: true, resource: "tls" });
    users.push(u);
    expect(u.jid).toBe("bob@corp.test/tls");
    expect(u.mechanism).toBe("SCRAM-SHA-256");
    // RFC 5802 section 5.1: the server's v= proves it holds the stored credential; the client computed what it must be.
    expect(ScramSha256Client.expectedSignature).toMatch(/^v=[A-Za-z0-9+/]{43}=$/);
    expect(u.saslSuccess).toBe(ScramSha256Client.expectedSignature);
    await u.stop();
  });

  it("refuses a wrong password with not-authorized, and answers repeated failures more and more slowly", async () => {
    const times: number[] = [];
    for (let i = 0; i < 3; i++) {
      const t0 = Date.now();
      const err = await login(b, "carol", { password: "wrong" }).catch((e: Error & { condition?: string }) => e);
      times.push(Date.now() - t0);
      expect((err as { condition?: string }).condition).toBe("not-authorized");
    }
    // The server holds the second answer 250 ms and the third 500 ms (doubling
    // from the first repeat); only these lower bounds are independent of load.
    expect(times[1]!).toBeGreaterThanOrEqual(250);
    expect(times[2]!).toBeGreaterThanOrEqual(500);
  });
});

describe("c2s rosters and presence", () => {
  it("runs a subscription handshake between two users with roster pushes and presence", async () => {
    const a = await as("alice", { resource: "hs" });
    const d = await as("dave", { resource: "hs" });
    await a.iq(xml("iq", { type: "get" }, xml("query", { xmlns: "jabber:iq:roster" })));
    await d.iq(xml("iq", { type: "get" }, xml("query", { xmlns: "jabber:iq:roster" })));
    await a.send(xml("presence"));
    await d.send(xml("presence", {}, xml("show", {}, "dnd"), xml("status", {}, "On the phone")));
    await a.send(xml("presence", { to: "dave@corp.test", type: "subscribe" }));
    await d.waitFor((el) => el.name === "presence" && el.attrs.type === "subscribe" && el.attrs.from === "alice@corp.test");
    const pushOut = await a.waitFor((el) => el.name === "iq" && el.getChild("query")?.getChild("item")?.attrs.ask === "subscribe");
    expect(pushOut.getChild("query")!.getChild("item")!.attrs).toMatchObject({ jid: "dave@corp.test", subscription: "none" });
    await d.send(xml("presence", { to: "alice@corp.test", type: "subscribed" }));
    await a.waitFor((el) => el.name === "iq" && el.getChild("query")?.getChild("item")?.attrs.subscription === "to");
    const p = await a.waitFor(presenceFrom("dave@corp.test/hs"));
    expect([p.getChildText("show"), p.getChildText("status")]).toEqual(["dnd", "On the phone"]);
    // Dave's roster now carries Alice with subscription "from".
    const roster = await d.iq(xml("iq", { type: "get" }, xml("query", { xmlns: "jabber:iq:roster" })));
    expect(roster.getChild("query")!.getChildren("item").map((i) => [i.attrs.jid, i.attrs.subscription])).toEqual([["alice@corp.test", "from"]]);
    // Dave goes away: Alice sees it; Dave leaves: Alice sees unavailable.
    await d.send(xml("presence", {}, xml("show", {}, "away")));
    await a.waitFor((el) => presenceFrom("dave@corp.test/hs")(el) && el.getChildText("show") === "away");
    await d.stop();
    await a.waitFor(presenceFrom("dave@corp.test/hs", "unavailable"));
    await a.stop();
  });

  it("refuses a roster set over the contact limit, with the limit in the error text", async () => {
    const c = await as("carol", { resource: "lim" });
    for (const n of [1, 2, 3]) await c.iq(xml("iq", { type: "set" }, xml("query", { xmlns: "jabber:iq:roster" }, xml("item", { jid: `x${n}@corp.test` }))));
    const err = await c.iq(xml("iq", { type: "set" }, xml("query", { xmlns: "jabber:iq:roster" }, xml("item", { jid: "x4@corp.test" })))).catch((e: { element: Element }) => e.element);
    expect(errorCondition(err)).toBe("resource-constraint");
    expect(errorText(err)).toBe("contact list is full: at most 3 contacts per user");
    await c.iq(xml("iq", { type: "set" }, xml("query", { xmlns: "jabber:iq:roster" }, xml("item", { jid: "x1@corp.test", subscription: "remove" }))));
    await c.iq(xml("iq", { type: "set" }, xml("query", { xmlns: "jabber:iq:roster" }, xml("item", { jid: "x4@corp.test" }))));
    await c.stop();
  });

  it("does not let a contractor watch an executive, and a blocked user loses presence", async () => {
    const t = await as("temp");
    const ceo = await as("ceo");
    await t.iq(xml("iq", { type: "get" }, xml("query", { xmlns: "jabber:iq:roster" })));
    await t.send(xml("presence"));
    await t.send(xml("presence", { to: "ceo@corp.test", type: "subscribe", id: "sub1" }));
    const err = await t.waitFor((el) => el.name === "presence" && el.attrs.type === "error");
    expect(errorCondition(err)).toBe("forbidden");
    expect(errorText(err)).toBe("presence policy: contractors may not watch executives");
    // Executives may watch contractors.
    await ceo.send(xml("presence", { to: "temp@corp.test", type: "subscribe" }));
    await t.waitFor((el) => el.name === "presence" && el.attrs.type === "subscribe");
    await t.send(xml("presence", { to: "ceo@corp.test", type: "subscribed" }));
    await ceo.send(xml("presence"));
    await ceo.waitFor(presenceFrom("temp@corp.test/r1"));
    // XEP-0191: the contractor blocks the executive, who gets unavailable at once.
    await t.iq(xml("iq", { type: "set" }, xml("block", { xmlns: "urn:xmpp:blocking" }, xml("item", { jid: "ceo@corp.test" }))));
    await ceo.waitFor(presenceFrom("temp@corp.test/r1", "unavailable"));
    const list = await t.iq(xml("iq", { type: "get" }, xml("blocklist", { xmlns: "urn:xmpp:blocking" })));
    expect(list.getChild("blocklist")!.getChildren("item").map((i) => i.attrs.jid)).toEqual(["ceo@corp.test"]);
    await ceo.send(xml("message", { to: "temp@corp.test", type: "chat", id: "m1" }, xml("body", {}, "hello?")));
    const bounce = await ceo.waitFor((el) => el.name === "message" && el.attrs.type === "error");
    expect(errorCondition(bounce)).toBe("service-unavailable");
    await t.stop();
    await ceo.stop();
  });
});

describe("c2s messages", () => {
  it("routes to all of a user's devices first, then to the device that answered", async () => {
    const a = await as("alice", { resource: "m" });
    const b1 = await as("bob", { resource: "one" });
    const b2 = await as("bob", { resource: "two" });
    const b3 = await as("bob", { resource: "three" });
    await b1.send(xml("presence", {}, xml("priority", {}, "1")));
    await b2.send(xml("presence"));
    await b3.send(xml("presence", {}, xml("priority", {}, "-1")));
    await a.send(xml("presence"));
    // Each available resource hears its account's other resources: once b1 has two and three and b2 has one, the core has all three.
    const from = (jid: string, type?: string) => (el: Element) => el.name === "presence" && el.attrs.from === jid && el.attrs.type === type;
    for (const r of ["two", "three"]) await b1.waitFor(from(`bob@corp.test/${r}`));
    await b2.waitFor(from("bob@corp.test/one"));
    await until(() => b.core.presenceOf("alice@corp.test").state !== "offline", 5_000, "alice to be available");
    const say = (text: string) => a.send(xml("message", { to: "bob@corp.test", type: "chat" }, xml("body", {}, text)));
    await say("first");
    await Promise.all([b1.waitFor(isMsg("first")), b2.waitFor(isMsg("first"))]);
    await b2.send(xml("message", { to: "alice@corp.test", type: "chat" }, xml("body", {}, "answer from two")));
    await a.waitFor(isMsg("answer from two"));
    await say("second");
    await b2.waitFor(isMsg("second"));
    await say("third");
    await b2.waitFor(isMsg("third"));
    // A marker sent to b1 itself after "third" was delivered: once it is in, anything routed to b1 before it is too.
    await a.send(xml("message", { to: "bob@corp.test/one", type: "chat" }, xml("body", {}, "marker-1")));
    await b1.waitFor(isMsg("marker-1"));
    expect(b1.all(isMsg("second")).length + b1.all(isMsg("third")).length).toBe(0);
    // bob answers from another device: the conversation moves there.
    await b1.send(xml("message", { to: "alice@corp.test", type: "chat" }, xml("body", {}, "answer from one")));
    await a.waitFor(isMsg("answer from one"));
    await say("fourth");
    await b1.waitFor(isMsg("fourth"));
    // When the device the conversation is pinned to leaves, the next message goes to bob's devices with non-negative priority.
    await b1.stop();
    await b2.waitFor(from("bob@corp.test/one", "unavailable"));
    await say("fifth");
    await b2.waitFor(isMsg("fifth"));
    await a.send(xml("message", { to: "bob@corp.test/three", type: "chat" }, xml("body", {}, "marker-2")));
    await b3.waitFor(isMsg("marker-2"));
    expect(b2.all(isMsg("fourth"))).toEqual([]);
    expect(b3.all((el) => el.name === "message" && !isMsg("marker-2")(el))).toEqual([]);
    for (const u of [a, b2, b3]) await u.stop();
  });

  it("sends carbons to a resource that enabled them", async () => {
    const a = await as("alice", { resource: "c" });
    const b1 = await as("bob", { resource: "main" });
    const b2 = await as("bob", { resource: "carbons" });
    await b2.iq(xml("iq", { type: "set" }, xml("enable", { xmlns: "urn:xmpp:carbons:2" })));
    for (const u of [a, b1, b2]) await u.send(xml("presence"));
    await b1.send(xml("message", { to: "alice@corp.test", type: "chat" }, xml("body", {}, "sent by main")));
    const sent = await b2.waitFor((el) => el.getChild("sent", "urn:xmpp:carbons:2") !== undefined);
    const inner = sent.getChild("sent")!.getChild("forwarded", "urn:xmpp:forward:0")!.getChild("message")!;
    expect([sent.attrs.from, inner.attrs.from, inner.getChildText("body")]).toEqual(["bob@corp.test", "bob@corp.test/main", "sent by main"]);
    await a.send(xml("message", { to: "bob@corp.test", type: "chat" }, xml("body", {}, "reply")));
    const received = await b2.waitFor((el) => el.getChild("received", "urn:xmpp:carbons:2") !== undefined);
    expect(received.getChild("received")!.getChild("forwarded")!.getChild("message")!.getChildText("body")).toBe("reply");
    for (const u of [a, b1, b2]) await u.stop();
  });

  it("keeps messages for an offline user in the database and delivers them at login with a delay stamp", async () => {
    const a = await as("alice", { resource: "off" });
    await a.send(xml("message", { to: "carol@corp.test", type: "chat" }, xml("body", {}, "while you were away")));
    await until(async () => (await b.core.store.countOffline("carol@corp.test")) > 0, 5_000, "the offline message to be stored");
    expect(await b.core.store.countOffline("carol@corp.test")).toBe(1);
    const c = await as("carol", { resource: "back" });
    await c.send(xml("presence"));
    const m = await c.waitFor(isMsg("while you were away"));
    expect(m.getChild("delay", "urn:xmpp:delay")?.attrs.from).toBe("corp.test");
    expect(await b.core.store.countOffline("carol@corp.test")).toBe(0);
    await a.stop();
    await c.stop();
  });
});

describe("c2s services and bad input", () => {
  it("answers ping and disco, and service-unavailable for what it does not know", async () => {
    const a = await as("alice", { resource: "svc" });
    const pong = await a.iq(xml("iq", { type: "get", to: "corp.test" }, xml("ping", { xmlns: "urn:xmpp:ping" })));
    expect(pong.attrs.type).toBe("result");
    const info = await a.iq(xml("iq", { type: "get", to: "corp.test" }, xml("query", { xmlns: "http://jabber.org/protocol/disco#info" })));
    const features = info.getChild("query")!.getChildren("feature").map((f) => f.attrs.var);
    expect(features).toEqual(expect.arrayContaining(["urn:xmpp:ping", "urn:xmpp:carbons:2", "urn:xmpp:blocking"]));
    expect(info.getChild("query")!.getChild("identity")!.attrs).toMatchObject({ category: "server", type: "im" });
    const unknown = await a.iq(xml("iq", { type: "get" }, xml("query", { xmlns: "urn:example:nothing" }))).catch((e: { element: Element }) => e.element);
    expect(errorCondition(unknown)).toBe("service-unavailable");
    const other = await a.iq(xml("iq", { type: "get", to: "bob@corp.test/x" }, xml("ping", { xmlns: "urn:xmpp:ping" }))).catch((e: { element: Element }) => e.element);
    expect(errorCondition(other)).toBe("service-unavailable");
    await a.stop();
  });

  it("refuses a roster set for someone else's roster and malformed JIDs", async () => {
    const a = await as("alice", { resource: "bad" });
    const foreign = await a.iq(xml("iq", { type: "set", to: "bob@corp.test" }, xml("query", { xmlns: "jabber:iq:roster" }, xml("item", { jid: "x@corp.test" })))).catch((e: { element: Element }) => e.element);
    expect(errorCondition(foreign)).toBe("forbidden");
    const badItem = await a.iq(xml("iq", { type: "set" }, xml("query", { xmlns: "jabber:iq:roster" }, xml("item", { jid: "a@b@c" })))).catch((e: { element: Element }) => e.element);
    expect(errorCondition(badItem)).toBe("jid-malformed");
    await a.send(xml("message", { to: "x@@corp.test", id: "bad1", type: "chat" }, xml("body", {}, "x")));
    const bounce = await a.waitFor((el) => el.name === "message" && el.attrs.id === "bad1" && el.attrs.type === "error");
    expect(errorCondition(bounce)).toBe("jid-malformed");
    await a.stop();
  });
});
