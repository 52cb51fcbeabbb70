/**
 * Kamailio as a partner's SIMPLE presence server (presence + presence_xml,
 * PUBLISH / SUBSCRIBE / NOTIFY with PIDF) and as the partner's proxy for
 * MESSAGE: demarc subscribes through DNS SRV to a partner user who publishes
 * her state, and messages cross both ways.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEdge, type EdgeHarness } from "./harness.js";
import { until } from "../../helpers/wait.js";
import { PartnerUa } from "./partner-ua.js";
import { startKamailio, type Kamailio } from "../../helpers/kamailio.js";
import { startDnsServer, type DnsServerHandle } from "../../helpers/dns-server.js";
import type { Envelope } from "../../../src/model/envelope.js";

const ADDR = "127.0.8.5";
const KAM = { host: "127.0.8.20", port: 5060 };

const pidf = (activity: string | undefined, note: string) => `<?xml version="1.0" encoding="UTF-8"?>
<presence xmlns="urn:ietf:params:xml:ns:pidf" xmlns:dm="urn:ietf:params:xml:ns:pidf:data-model" xmlns:rpid="urn:ietf:params:xml:ns:pidf:rpid" entity="sip:carol@partner.test">
<tuple id="t1"><status><basic>open</basic></status></tuple>
<dm:person id="p1">${activity ? `<rpid:activities><rpid:${activity}/></rpid:activities>` : ""}<dm:note>${note}</dm:note></dm:person>
</presence>`;

let h: EdgeHarness;
let dns: DnsServerHandle;
let kam: Kamailio;
let carol: PartnerUa;

beforeAll(async () => {
  dns = await startDnsServer("127.0.8.54", {
    srv: { "_sip._tcp.partner.test": [{ priority: 0, weight: 0, port: KAM.port, target: "sip.partner.test" }] },
    a: { "sip.partner.test": [KAM.host] },
  });
  h = await startEdge({ address: ADDR, dnsServer: dns.server, partners: [{ domain: "partner.test", protocol: "sip", profile: "aol" }] });
  kam = await startKamailio({ address: KAM.host, port: KAM.port, domain: "partner.test", relay: { domain: "corp.test", host: ADDR, port: h.edge.ports.TCP! } });
  carol = new PartnerUa("127.0.8.21", "carol", "partner.test");
  await carol.start();
}, 30_000);

afterAll(async () => {
  await carol?.close();
  await kam?.stop();
  await h?.close();
  await dns?.close();
});

const presenceFor = (note: string) => (): Envelope | undefined =>
  h.recorder.delivered.find((e) => e.kind === "presence" && e.from === "carol@partner.test" && e.presence?.note === note);

let etag: string | undefined;

/** RFC 3903: the first PUBLISH creates the publication; later ones modify it through SIP-If-Match. */
async function publish(body: string): Promise<void> {
  carol.responses.length = 0;
  const headers: Record<string, string> = { event: "presence", expires: "600", ...(etag ? { "sip-if-match": etag } : {}) };
  await carol.send(KAM, { method: "PUBLISH", to: "sip:carol@partner.test", body, contentType: "application/pidf+xml", headers });
  const rs = await carol.waitFor("responses", (m) => m.headers.cseq?.method === "PUBLISH");
  expect(rs.status, kam.tail()).toBe(200);
  etag = String(rs.headers["sip-etag"]);
}

describe("Kamailio SIMPLE partner", () => {
  it("demarc's SUBSCRIBE is served by Kamailio; the published state arrives as rich presence", async () => {
    await publish(pidf("on-the-phone", "call with supplier"));
    const r = await h.ctx.router.route({
      id: "sub-1", receivedAt: Date.now(), direction: "outbound", protocol: "internal", kind: "subscription", type: "subscribe",
      from: "bob@corp.test", to: "carol@partner.test", partnerDomain: "partner.test",
    });
    expect(r, kam.tail()).toMatchObject({ delivered: true });
    const p = await until(presenceFor("call with supplier"), 8_000, `presence from Kamailio\n${kam.tail()}`);
    expect(p).toMatchObject({ direction: "inbound", protocol: "sip", to: "bob@corp.test", partnerDomain: "partner.test", presence: { state: "on-the-phone" } });
    expect(h.recorder.delivered.some((e) => e.kind === "subscription" && e.type === "subscribed" && e.from === "carol@partner.test")).toBe(true);
  });

  it("a new PUBLISH reaches demarc as a new NOTIFY", async () => {
    await publish(pidf("meeting", "weekly review"));
    const p = await until(presenceFor("weekly review"), 8_000, `second NOTIFY\n${kam.tail()}`);
    expect(p.presence?.state).toBe("in-a-meeting");
  });

  it("a MESSAGE Kamailio relays from its user reaches demarc, and the 200 goes back", async () => {
    carol.responses.length = 0;
    await carol.send(KAM, { method: "MESSAGE", to: "sip:bob@corp.test", body: "via kamailio" });
    const rs = await carol.waitFor("responses", (m) => m.headers.cseq?.method === "MESSAGE");
    expect(rs.status, kam.tail()).toBe(200);
    const e = h.recorder.delivered.find((x) => x.kind === "message" && x.body === "via kamailio");
    expect(e).toMatchObject({ from: "carol@partner.test", to: "bob@corp.test", direction: "inbound" });
  });

  it("demarc's MESSAGE to a partner user is accepted by Kamailio", async () => {
    const r = await h.ctx.router.route({
      id: "msg-1", receivedAt: Date.now(), direction: "outbound", protocol: "internal", kind: "message", type: "chat",
      from: "bob@corp.test/desk", to: "carol@partner.test", partnerDomain: "partner.test", body: "hello carol",
    });
    expect(r, kam.tail()).toMatchObject({ delivered: true });
    await until(() => (kam.log.includes("message for local user carol") ? true : undefined), 3_000, "kamailio log line");
  });
});
