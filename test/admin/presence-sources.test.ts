/**
 * Presence from a PBX, a calendar or an operator over the admin API, seen by
 * a real @xmpp/client watcher. Loopback address: 127.0.14.3.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adminModule } from "../../src/admin/server.js";
import { startBench, login, xml, type Bench, type User } from "../access/c2s/helpers.js";
import { until } from "../helpers/wait.js";
import type { Element } from "../../src/xmpp/xml.js";

const ADDRESS = "127.0.14.3";
const API = `http://${ADDRESS}:15280/api/presence`;
let b: Bench;
let alice: User;
let bob: User;

const fromAlice = (show: string | undefined, status?: string) => (el: Element) =>
  el.name === "presence" && (el.attrs.from ?? "").startsWith("alice@corp.test/") && el.attrs.type === undefined &&
  (el.getChildText("show") ?? undefined) === show && (status === undefined || el.getChildText("status") === status);

async function call(method: string, path: string, body?: unknown) {
  const res = await fetch(`${API}/${path}`, { method, headers: body ? { "content-type": "application/json" } : {}, body: body ? JSON.stringify(body) : undefined });
  const text = await res.text();
  return { status: res.status, json: text ? (JSON.parse(text) as Record<string, unknown>) : undefined };
}

beforeAll(async () => {
  b = await startBench(ADDRESS, { admin: { enabled: true, host: ADDRESS, port: 15280 } }, { modules: { after: [adminModule()] } });
  await b.addUser("alice");
  await b.addUser("bob");
  alice = await login(b, "alice", { resource: "desk" });
  bob = await login(b, "bob", { resource: "desk" });
  for (const u of [alice, bob]) await u.iq(xml("iq", { type: "get" }, xml("query", { xmlns: "jabber:iq:roster" })));
  await alice.send(xml("presence"));
  await bob.send(xml("presence"));
  await bob.send(xml("presence", { to: "alice@corp.test", type: "subscribe" }));
  await alice.waitFor((el) => el.name === "presence" && el.attrs.type === "subscribe");
  await alice.send(xml("presence", { to: "bob@corp.test", type: "subscribed" }));
  await bob.waitFor(fromAlice(undefined));
});
afterAll(async () => {
  await alice?.stop();
  await bob?.stop();
  await b?.close();
});

describe("presence sources over the admin API", () => {
  it("a PBX's on-the-phone reaches watchers and the aggregate; clearing it brings the device's state back", async () => {
    expect((await call("PUT", "alice@corp.test/phone", { state: "on-the-phone", note: "with a client" })).status).toBe(204);
    await bob.waitFor(fromAlice("dnd", "On the phone: with a client"));
    const got = await call("GET", "alice@corp.test");
    expect(got).toMatchObject({ status: 200, json: { jid: "alice@corp.test", presence: { state: "on-the-phone", note: "with a client" }, sources: { phone: { state: "on-the-phone" } } } });

    const before = bob.received.length;
    expect((await call("DELETE", "alice@corp.test/phone")).status).toBe(204);
    await bob.waitFor((el) => bob.received.indexOf(el) >= before && fromAlice(undefined)(el));
    expect((await call("GET", "alice@corp.test")).json).toMatchObject({ presence: { state: "available" }, sources: {} });
  });

  it("a device's do-not-disturb outranks the calendar; a calendar entry with an expiry clears itself", async () => {
    expect((await call("PUT", "alice@corp.test/calendar", { state: "in-a-meeting", note: "Board", expires_s: 1 })).status).toBe(204);
    expect((await call("GET", "alice@corp.test")).json).toMatchObject({ presence: { state: "in-a-meeting", note: "Board" } });
    await alice.send(xml("presence", {}, xml("show", {}, "dnd")));
    await bob.waitFor(fromAlice("dnd"));
    expect((await call("GET", "alice@corp.test")).json).toMatchObject({ presence: { state: "dnd" } });
    await alice.send(xml("presence"));
    // The expiry is one second; allow a few for a loaded machine. No event announces it: the API is asked again until then.
    const state = async () => String(((await call("GET", "alice@corp.test")).json?.presence as { state: string }).state);
    await until(async () => (await state()) === "available", 4_000, "the calendar entry to expire").catch(() => undefined);
    expect(await state()).toBe("available");
    expect((await call("GET", "alice@corp.test")).json?.sources).toEqual({});
  });

  it("refuses an unknown account, source or state, and unknown fields, with one clear message", async () => {
    expect(await call("PUT", "nobody@corp.test/phone", { state: "busy" })).toEqual({ status: 404, json: { error: "no account nobody@corp.test" } });
    expect(await call("PUT", "alice@corp.test/pager", { state: "busy" })).toMatchObject({ status: 400, json: { error: expect.stringMatching(/^source: /) } });
    expect(await call("PUT", "alice@corp.test/phone", { state: "napping" })).toMatchObject({ status: 400, json: { error: expect.stringMatching(/^state: /) } });
    expect(await call("PUT", "alice@corp.test/phone", { state: "busy", colour: "red" })).toMatchObject({ status: 400 });
    expect(await call("PUT", "alice@corp.test/phone", { state: "busy", expires_s: 0 })).toMatchObject({ status: 400, json: { error: expect.stringMatching(/^expires_s: /) } });
    expect((await call("GET", "nobody@corp.test")).status).toBe(404);
  });
});
