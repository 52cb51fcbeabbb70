/**
 * A demarc user (c2s, embedded core) and a user of a real Prosody partner
 * exchange a presence subscription, presence and messages over s2s.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestCa } from "../../helpers/ca.js";
import { startDnsServer, type DnsServerHandle } from "../../helpers/dns-server.js";
import { startProsody, type ProsodyHandle } from "../../helpers/prosody.js";
import { loginPartnerUser, type PartnerUser } from "../../helpers/xmpp-client.js";
import { tlsModule } from "../../../src/tls/module.js";
import { s2sModule } from "../../../src/edge/xmpp/module.js";
import { startBench, login, xml, isMsg, type Bench, type User } from "./helpers.js";
import type { Element } from "../../../src/xmpp/xml.js";

const DEMARC = "127.0.4.3";
const DNS_ADDR = "127.0.4.4";
const PEER = "127.0.4.11";

let dns: DnsServerHandle;
let peer: ProsodyHandle;
let b: Bench;
let alice: PartnerUser;
let bob: User;

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), "c2s-prosody-"));
  const ca = createTestCa(join(dir, "ca"));
  dns = await startDnsServer(DNS_ADDR, {
    a: { "corp.test": [DEMARC], "partner-a.test": [PEER] },
    srv: {
      "_xmpp-server._tcp.corp.test": [{ priority: 10, weight: 1, port: 15269, target: "corp.test" }],
      "_xmpp-server._tcp.partner-a.test": [{ priority: 10, weight: 1, port: 15269, target: "partner-a.test" }],
    },
  });
  peer = await startProsody({ domain: "partner-a.test", address: PEER, ca, dnsServer: dns.server, secureAuth: true, users: { alice: "pw" } });
  const tls = tlsModule();
  b = await startBench(
    DEMARC,
    {
      tls: { trust: { system: false, ca_files: [ca.certPath] } },
      dns: { servers: [dns.server], timeout_ms: 1000 },
      s2s: { starttls: { host: DEMARC, port: 15269 }, direct_tls: { host: DEMARC, port: 15270 } },
      partners: [{ domain: "partner-a.test", auth: ["certificate"] }],
    },
    { ca, modules: { before: [tls], after: [s2sModule(tls)] } },
  );
  await b.addUser("bob");
  alice = await loginPartnerUser({ address: PEER, domain: "partner-a.test", username: "alice", password: "pw", caPem: ca.certPem });
  await alice.send(xml("iq", { type: "get", id: "r1" }, xml("query", { xmlns: "jabber:iq:roster" })));
  await alice.presence();
  bob = await login(b, "bob", { resource: "desk" });
  await bob.iq(xml("iq", { type: "get" }, xml("query", { xmlns: "jabber:iq:roster" })));
  await bob.send(xml("presence"));
}, 60_000);

afterAll(async () => {
  await bob?.stop();
  await alice?.stop();
  await b?.close();
  await peer?.stop();
  await dns?.close();
});

const dump = () => `\n--- prosody ---\n${peer.log().slice(-3000)}`;
const orDump = <T>(p: Promise<T>) => p.catch((err: Error) => Promise.reject(new Error(`${err.message}${dump()}`)));

describe("a Prosody partner user and a demarc user", () => {
  it("complete a subscription both ways and see each other's presence", async () => {
    // bob asks to see alice; Prosody delivers the request; alice approves.
    await bob.send(xml("presence", { to: "alice@partner-a.test", type: "subscribe" }));
    await orDump(alice.waitFor((el) => el.name === "presence" && el.attrs.type === "subscribe" && el.attrs.from === "bob@corp.test"));
    await alice.send(xml("presence", { to: "bob@corp.test", type: "subscribed" }));
    await orDump(bob.waitFor((el) => el.name === "iq" && el.getChild("query")?.getChild("item")?.attrs.subscription === "to"));
    const seen = await orDump(bob.waitFor((el) => el.name === "presence" && (el.attrs.from ?? "").startsWith("alice@partner-a.test/") && el.attrs.type === undefined));
    expect(seen.attrs.to).toBe("bob@corp.test/desk");
    // alice asks to see bob; bob approves; alice gets bob's rich presence mapped to show/status.
    await alice.send(xml("presence", { to: "bob@corp.test", type: "subscribe" }));
    await orDump(bob.waitFor((el) => el.name === "presence" && el.attrs.type === "subscribe" && el.attrs.from === "alice@partner-a.test"));
    await bob.send(xml("presence", { to: "alice@partner-a.test", type: "subscribed" }));
    await orDump(alice.waitFor((el) => el.name === "presence" && el.attrs.from?.startsWith("bob@corp.test") === true && el.attrs.type === undefined));
    await bob.send(xml("presence", {}, xml("show", {}, "dnd"), xml("status", {}, "In a meeting")));
    const rich = await orDump(alice.waitFor((el: Element) => el.name === "presence" && el.attrs.from?.startsWith("bob@corp.test") === true && el.getChildText("show") === "dnd"));
    expect(rich.getChildText("status")).toBe("In a meeting");
    const roster = await bob.iq(xml("iq", { type: "get" }, xml("query", { xmlns: "jabber:iq:roster" })));
    expect(roster.getChild("query")!.getChildren("item").map((i) => [i.attrs.jid, i.attrs.subscription])).toEqual([["alice@partner-a.test", "both"]]);
  });

  it("exchange messages in both directions", async () => {
    await bob.send(xml("message", { to: "alice@partner-a.test", type: "chat" }, xml("body", {}, "hello from demarc")));
    const got = await orDump(alice.waitFor((el) => el.getChildText("body") === "hello from demarc"));
    expect(got.attrs.from).toBe("bob@corp.test/desk");
    await alice.message("bob@corp.test", "hello from prosody", "p1");
    const back = await orDump(bob.waitFor(isMsg("hello from prosody")));
    expect(back.attrs.from).toMatch(/^alice@partner-a\.test\//);
  });
});
