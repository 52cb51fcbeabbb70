/**
 * End to end through the whole gateway (the default module list: compliance
 * pipeline, archive, presence core, SIP edge, c2s): a SIP partner user
 * (alice@partner.test, AOL profile) and an XMPP user (bob@corp.test, logged in
 * over c2s with @xmpp/client) subscribe to each other, see each other's mapped
 * presence and exchange messages; alice's partner publishes her state (RFC 3903)
 * and bob sees it; a blocked message is a SIP 403 with the
 * rule's Warning.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { xml, type User } from "../../access/c2s/helpers.js";
import type { Element } from "../../../src/xmpp/xml.js";
import type { Composition } from "../../../src/gateway/modules.js";
import { startSipFederation, type SipFederation } from "../../helpers/sip-federation.js";
import { startDnsServer, type DnsServerHandle } from "../../helpers/dns-server.js";
import { PartnerUa, utf8 } from "./partner-ua.js";
import { until } from "../../helpers/wait.js";

const ADDR = "127.0.8.40";
const C2S_PORT = 18222;
const PIDF_ON_THE_PHONE = `<?xml version="1.0" encoding="UTF-8"?>
<presence xmlns="urn:ietf:params:xml:ns:pidf" xmlns:dm="urn:ietf:params:xml:ns:pidf:data-model" xmlns:rpid="urn:ietf:params:xml:ns:pidf:rpid" entity="sip:alice@partner.test">
<tuple id="t1"><status><basic>open</basic></status></tuple>
<dm:person id="p1"><rpid:activities><rpid:on-the-phone/></rpid:activities><dm:note>with a customer</dm:note></dm:person>
</presence>`;

const PIDF_AWAY = `<?xml version="1.0" encoding="UTF-8"?>
<presence xmlns="urn:ietf:params:xml:ns:pidf" xmlns:dm="urn:ietf:params:xml:ns:pidf:data-model" xmlns:rpid="urn:ietf:params:xml:ns:pidf:rpid" entity="sip:alice@partner.test">
<tuple id="t1"><status><basic>open</basic></status></tuple>
<dm:person id="p1"><rpid:activities><rpid:away/></rpid:activities><dm:note>back at two</dm:note></dm:person>
</presence>`;

type El = Element;

let fed: SipFederation;
let wired: Composition;
let dns: DnsServerHandle;
let alice: PartnerUa;
let bob: User;
/** Everything bob received, in order; tests clear it to look only at what follows. */
let got: El[] = [];
const sipTarget = { host: ADDR, port: 15070 };

async function waitStanza(match: (el: El) => boolean, timeoutMs = 5_000): Promise<El> {
  return until(() => got.find(match), timeoutMs, "stanza for bob");
}

beforeAll(async () => {
  alice = new PartnerUa("127.0.8.30", "alice", "partner.test");
  await alice.start();
  alice.pidf = PIDF_ON_THE_PHONE;
  dns = await startDnsServer("127.0.8.53", {
    srv: { "_sip._tcp.partner.test": [{ priority: 0, weight: 0, port: alice.port, target: "sip.partner.test" }] },
    a: { "sip.partner.test": ["127.0.8.30"] },
  });
  fed = await startSipFederation({
    address: ADDR,
    c2sPort: C2S_PORT,
    dnsServer: dns.server,
    sipPort: sipTarget.port,
    policyFiles: {
      "10-inbound.yaml": [
        "kind: policy",
        "rules:",
        "  - id: inbound-codenames",
        "    when:",
        "      direction: inbound",
        "      kind: [message]",
        '      words: ["Project Falcon"]',
        "    then:",
        "      action: block",
        '      reason: "Project names may not be received from partners."',
        "",
        ].join("\n"),
    },
  });
  ({ wired, bob, got } = fed);
});

afterAll(async () => {
  await fed?.close();
  await alice?.close();
  await dns?.close();
});

describe("SIP partner user <-> XMPP user through the whole gateway", () => {
  it("bob subscribes to alice: SUBSCRIBE goes out, alice's on-the-phone comes back as dnd + 'On the phone'", async () => {
    await bob.send(xml("presence", { to: "alice@partner.test", type: "subscribe" }));
    const sub = await alice.waitFor("requests", (m) => m.method === "SUBSCRIBE");
    expect(sub.headers.from?.uri).toBe("sip:bob@corp.test");
    expect(String(sub.headers.event)).toBe("presence");
    await waitStanza((el) => el.name === "presence" && el.attrs.from === "alice@partner.test" && el.attrs.type === "subscribed");
    const p = await waitStanza((el) => el.name === "presence" && (el.attrs.from ?? "").startsWith("alice@partner.test") && !el.attrs.type);
    expect(p.getChildText("show")).toBe("dnd");
    expect(p.getChildText("status")).toBe("On the phone: with a customer");
  });

  it("alice's partner PUBLISHes her state (RFC 3903): bob sees it, then unavailable when it is removed", async () => {
    const publish = async (headers: Record<string, string>, body?: string) => {
      alice.responses.length = 0;
      await alice.send(sipTarget, { method: "PUBLISH", to: "sip:alice@partner.test", headers: { event: "presence", ...headers }, ...(body ? { body, contentType: "application/pidf+xml" } : {}) });
      return alice.waitFor("responses", (m) => m.headers.cseq?.method === "PUBLISH");
    };
    got.length = 0;
    const created = await publish({ expires: "600" }, PIDF_AWAY);
    expect(created.status).toBe(200);
    const etag = String(created.headers["sip-etag"]);
    const away = await waitStanza((el) => el.name === "presence" && (el.attrs.from ?? "").startsWith("alice@partner.test") && el.getChildText("show") === "away");
    expect(away.getChildText("status")).toBe("back at two");

    const refreshed = await publish({ expires: "600", "sip-if-match": etag });
    expect(refreshed.status).toBe(200);
    expect(String(refreshed.headers["sip-etag"])).not.toBe(etag);
    const removed = await publish({ expires: "0", "sip-if-match": String(refreshed.headers["sip-etag"]) });
    expect(removed.status).toBe(200);
    await waitStanza((el) => el.name === "presence" && (el.attrs.from ?? "").startsWith("alice@partner.test") && el.attrs.type === "unavailable");
    expect((await publish({ expires: "600", "sip-if-match": etag })).status).toBe(412);
  });

  it("alice subscribes to bob; bob approves; alice gets NOTIFY with bob's presence for AOL", async () => {
    await alice.send(sipTarget, { method: "SUBSCRIBE", to: "sip:bob@corp.test", headers: { event: "presence", accept: "application/pidf+xml", expires: "600" } });
    const ok = await alice.waitFor("responses", (m) => m.headers.cseq?.method === "SUBSCRIBE");
    expect(ok.status).toBe(200);
    await waitStanza((el) => el.name === "presence" && el.attrs.from === "alice@partner.test" && el.attrs.type === "subscribe");
    await bob.send(xml("presence", { to: "alice@partner.test", type: "subscribed" }));
    const active = await alice.waitFor("requests", (m) => m.method === "NOTIFY" && String(m.headers["subscription-state"]).startsWith("active") && utf8(m.content).includes("<basic>open</basic>"));
    expect(utf8(active.content)).not.toContain("rpid:away");

    // bob goes do-not-disturb: AOL sees Away (Table 20-2).
    await bob.send(xml("presence", {}, xml("show", {}, "dnd")));
    const away = await alice.waitFor("requests", (m) => m.method === "NOTIFY" && utf8(m.content).includes("<rpid:away/>"));
    expect(utf8(away.content)).toContain("<basic>open</basic>");
  });

  it("alice's MESSAGE reaches bob as a chat message; a blocked one is a 403 with the rule's text", async () => {
    await alice.send(sipTarget, { method: "MESSAGE", to: "sip:bob@corp.test", body: "Hi Bob, grüße from SIP" });
    const ok = await alice.waitFor("responses", (m) => m.headers.cseq?.method === "MESSAGE");
    expect(ok.status).toBe(200);
    const msg = await waitStanza((el) => el.name === "message" && el.getChildText("body") === "Hi Bob, grüße from SIP");
    expect(msg.attrs.from).toMatch(/^alice@partner\.test/);
    expect(msg.attrs.type).toBe("chat");

    alice.responses.length = 0;
    await alice.send(sipTarget, { method: "MESSAGE", to: "sip:bob@corp.test", body: "about Project Falcon" });
    const blocked = await alice.waitFor("responses", (m) => m.headers.cseq?.method === "MESSAGE");
    expect(blocked.status).toBe(403);
    expect(String(blocked.headers.warning)).toContain("Project names may not be received from partners.");

    // Both went through the same archive as XMPP traffic, with their verdicts.
    const archive = wired.archive.service!;
    const inbound = () => archive.store.find({ participant: "alice@partner.test", kind: "message", direction: "inbound" }, { limit: 10 });
    const found = await until(async () => {
      const rs = await inbound();
      return rs.length >= 2 && rs;
    }, 5_000, "both SIP messages archived").catch(inbound);
    expect(found.map((r) => [r.protocol, r.verdict, r.body]).sort()).toEqual([
      ["sip", "block", "about Project Falcon"],
      ["sip", "allow", "Hi Bob, grüße from SIP"],
    ].sort());
  });

  it("bob's message reaches alice as a SIP MESSAGE", async () => {
    await bob.send(xml("message", { to: "alice@partner.test", type: "chat" }, xml("body", {}, "Hello Alice ✓")));
    const m = await alice.waitFor("requests", (r) => r.method === "MESSAGE");
    expect(m.headers.from?.uri).toBe("sip:bob@corp.test");
    expect(m.uri).toBe("sip:alice@partner.test");
    expect(utf8(m.content)).toBe("Hello Alice ✓");
  });
});
