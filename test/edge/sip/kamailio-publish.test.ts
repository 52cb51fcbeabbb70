/**
 * Kamailio as a partner's edge proxy federating presence: its user carol
 * PUBLISHes her state (RFC 3903) to Kamailio, which relays the request to
 * demarc instead of keeping it as its own presence server. demarc runs the
 * whole gateway in-process (compliance, archive, presence core, SIP edge,
 * c2s); bob@corp.test, logged in over c2s, subscribes to carol as in the
 * end-to-end test (his SUBSCRIBE goes to Kamailio through DNS SRV). What carol
 * publishes through Kamailio reaches bob as mapped XMPP presence; demarc's
 * answers (its entity-tags, 412 for a spent one) travel back through the proxy.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SipMessage } from "sip";
import { xml, type User } from "../../access/c2s/helpers.js";
import type { Element } from "../../../src/xmpp/xml.js";
import type { SipEdge } from "../../../src/edge/sip/edge.js";
import type { PresencePublications } from "../../../src/edge/sip/publish.js";
import { startSipFederation, type SipFederation } from "../../helpers/sip-federation.js";
import { startDnsServer, type DnsServerHandle } from "../../helpers/dns-server.js";
import { startKamailio, type Kamailio } from "../../helpers/kamailio.js";
import { PartnerUa } from "./partner-ua.js";
import { until } from "../../helpers/wait.js";

const ADDR = "127.0.12.1";
const DNS_ADDR = "127.0.12.53";
const KAM = { host: "127.0.12.20", port: 5060 };
const CAROL_ADDR = "127.0.12.21";
const C2S_PORT = 18322;

const PIDF_ON_THE_PHONE = `<?xml version="1.0" encoding="UTF-8"?>
<presence xmlns="urn:ietf:params:xml:ns:pidf" xmlns:dm="urn:ietf:params:xml:ns:pidf:data-model" xmlns:rpid="urn:ietf:params:xml:ns:pidf:rpid" entity="sip:carol@partner.test">
<tuple id="t1"><status><basic>open</basic></status></tuple>
<dm:person id="p1"><rpid:activities><rpid:on-the-phone/></rpid:activities><dm:note>call with supplier</dm:note></dm:person>
</presence>`;

type El = Element;

let fed: SipFederation;
let dns: DnsServerHandle;
let kam: Kamailio;
let carol: PartnerUa;
let edge: SipEdge;
let publications: PresencePublications;
let bob: User;
/** Everything bob received, in order; tests clear it to look only at what follows. */
let got: El[] = [];

const fromCarol = (el: El) => el.name === "presence" && (el.attrs.from ?? "").split("/")[0] === "carol@partner.test";

async function waitStanza(match: (el: El) => boolean, what: string, timeoutMs = 8_000): Promise<El> {
  return until(() => got.find(match), timeoutMs, `${what}\n${kam.tail()}`);
}

/** carol's PUBLISH goes to Kamailio, never to demarc directly: what comes back is what the proxy forwarded. */
async function publishViaKamailio(headers: Record<string, string>, body?: string): Promise<SipMessage> {
  carol.responses.length = 0;
  await carol.send(KAM, {
    method: "PUBLISH",
    to: "sip:carol@partner.test",
    headers: { event: "presence", ...headers },
    ...(body ? { body, contentType: "application/pidf+xml" } : {}),
  });
  // A final response: a proxy may send 100 Trying first.
  return carol.waitFor("responses", (m) => m.headers.cseq?.method === "PUBLISH" && (m.status ?? 0) >= 200, 8_000);
}

beforeAll(async () => {
  dns = await startDnsServer(DNS_ADDR, {
    srv: { "_sip._tcp.partner.test": [{ priority: 0, weight: 0, port: KAM.port, target: "sip.partner.test" }] },
    a: { "sip.partner.test": [KAM.host] },
  });
  fed = await startSipFederation({ address: ADDR, c2sPort: C2S_PORT, dnsServer: dns.server });
  ({ edge, publications, bob, got } = fed);

  kam = await startKamailio({
    address: KAM.host,
    port: KAM.port,
    domain: "partner.test",
    relay: { domain: "corp.test", host: ADDR, port: edge.ports.TCP! },
    publish: "relay",
  });
  carol = new PartnerUa(CAROL_ADDR, "carol", "partner.test");
  await carol.start();
});

afterAll(async () => {
  await carol?.close();
  await kam?.stop();
  await fed?.close();
  await dns?.close();
});

describe("a partner's PUBLISH relayed by Kamailio reaches a watching XMPP user", () => {
  let etag = "";

  it("bob subscribes to carol: Kamailio serves his SUBSCRIBE and its NOTIFY makes it subscribed, with no state yet", async () => {
    await bob.send(xml("presence", { to: "carol@partner.test", type: "subscribe" }));
    // demarc says subscribed on Kamailio's first (active) NOTIFY, so that NOTIFY has been handled by now.
    await waitStanza((el) => fromCarol(el) && el.attrs.type === "subscribed", "subscribed from carol");
    expect(kam.log).toMatch(/request SUBSCRIBE sip:carol@partner\.test from sip:bob@corp\.test/);
    expect(kam.log).toMatch(/NOTIFY sip:bob@corp\.test .* on behalf of sip:carol@partner\.test/);
    // Kamailio holds no state for carol (it relays PUBLISH), so its NOTIFY carried none: bob has no presence of hers yet.
    expect(got.filter((el) => fromCarol(el) && el.attrs.type !== "subscribed")).toEqual([]);
  });

  it("carol's PUBLISH is relayed to demarc; demarc's 200 and SIP-ETag come back; bob sees dnd 'On the phone'", async () => {
    got.length = 0;
    const created = await publishViaKamailio({ expires: "600" }, PIDF_ON_THE_PHONE);
    expect(created.status, kam.tail()).toBe(200);
    etag = String(created.headers["sip-etag"] ?? "");
    expect(etag).not.toBe("");
    expect(String(created.headers.expires)).toBe("600");
    // Kamailio matched demarc's answer to its client transaction and took its own Via off on the way back.
    expect((created.headers.via ?? []).map((v) => v.host)).toEqual([CAROL_ADDR]);
    // The state is held by demarc, not by Kamailio: the proxy relayed the request.
    expect(publications.store.size).toBe(1);
    expect(publications.store.current("carol@partner.test")).toEqual({ state: "on-the-phone", note: "call with supplier" });

    const p = await waitStanza((el) => fromCarol(el) && !el.attrs.type, "carol's published presence at bob");
    expect(p.attrs.to).toMatch(/^bob@corp\.test/);
    expect(p.getChildText("show")).toBe("dnd");
    expect(p.getChildText("status")).toBe("On the phone: call with supplier");
  });

  it("a refresh with SIP-If-Match through Kamailio gets a new entity-tag and keeps the state; the spent tag is 412", async () => {
    got.length = 0;
    const refreshed = await publishViaKamailio({ expires: "600", "sip-if-match": etag });
    expect(refreshed.status, kam.tail()).toBe(200);
    const next = String(refreshed.headers["sip-etag"] ?? "");
    expect(next).not.toBe("");
    expect(next).not.toBe(etag);
    expect(publications.store.size).toBe(1);
    expect(publications.store.current("carol@partner.test")).toEqual({ state: "on-the-phone", note: "call with supplier" });

    const spent = await publishViaKamailio({ expires: "600", "sip-if-match": etag });
    expect(spent.status, kam.tail()).toBe(412);
    etag = next;
  });

  it("removal (Expires: 0) through Kamailio: demarc drops the state and bob sees carol unavailable", async () => {
    const removed = await publishViaKamailio({ expires: "0", "sip-if-match": etag });
    expect(removed.status, kam.tail()).toBe(200);
    expect(publications.store.size).toBe(0);
    expect(publications.store.current("carol@partner.test")).toBeUndefined();
    await waitStanza((el) => fromCarol(el) && el.attrs.type === "unavailable", "carol unavailable after removal");
    // The refresh and the refused PUBLISH were no new state: since then bob saw only the removal.
    expect(got.filter(fromCarol).map((el) => el.attrs.type ?? "available")).toEqual(["unavailable"]);
  });
});
