/**
 * demarc as subscriber (RFC 6665 4.1; RFC 8048 4.1): a user's XMPP subscribe
 * becomes a SUBSCRIBE that is refreshed before it expires; a refusal or a
 * terminated;reason=rejected NOTIFY becomes an XMPP unsubscribed.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEdge, type EdgeHarness } from "./harness.js";
import { until } from "../../helpers/wait.js";
import { PartnerUa } from "./partner-ua.js";
import { startDnsServer, type DnsServerHandle } from "../../helpers/dns-server.js";
import type { Envelope } from "../../../src/model/envelope.js";

const ADDR = "127.0.8.41";
let h: EdgeHarness;
let dns: DnsServerHandle;
let dana: PartnerUa;

beforeAll(async () => {
  dana = new PartnerUa("127.0.8.42", "dana", "partner.test");
  await dana.start();
  dns = await startDnsServer("127.0.8.55", {
    srv: { "_sip._tcp.partner.test": [{ priority: 0, weight: 0, port: dana.port, target: "sip.partner.test" }] },
    a: { "sip.partner.test": ["127.0.8.42"] },
  });
  h = await startEdge({ address: ADDR, dnsServer: dns.server, partners: [{ domain: "partner.test", protocol: "sip", profile: "lync" }] });
});
afterAll(async () => {
  await h?.close();
  await dana?.close();
  await dns?.close();
});

const sub = (type: string, from = "bob@corp.test", to = "dana@partner.test"): Envelope => ({
  id: `s-${Math.random()}`, receivedAt: Date.now(), direction: "outbound", protocol: "internal", kind: "subscription", type, from, to, partnerDomain: "partner.test",
});

describe("SUBSCRIBE from demarc", () => {
  it("refreshes in the dialog before the granted Expires runs out", async () => {
    dana.subscribeAnswer = { status: 200, reason: "OK", expires: 2 };
    expect(await h.ctx.router.route(sub("subscribe"))).toMatchObject({ delivered: true });
    const first = await dana.waitFor("requests", (m) => m.method === "SUBSCRIBE");
    const refresh = await dana.waitFor("requests", (m) => m.method === "SUBSCRIBE" && m.headers["call-id"] === first.headers["call-id"] && m.headers.cseq!.seq === 2, 4_000);
    expect(refresh.headers.to?.params.tag).toBeTruthy();
    expect(String(refresh.headers.expires)).toBe("3600");

    // A NOTIFY in that dialog with Lync's availability number becomes rich presence.
    dana.notifyIn(first, "active;expires=2", `<presence xmlns="urn:ietf:params:xml:ns:pidf" entity="sip:dana@partner.test"><tuple id="t"><status><basic>open</basic></status></tuple><ms:state xmlns:ms="http://schemas.microsoft.com/2006/09/sip/state"><ms:availability>9100</ms:availability></ms:state></presence>`);
    const p = await until(() => h.recorder.delivered.find((e) => e.kind === "presence" && e.from === "dana@partner.test"), 3_000, "presence");
    expect(p.presence).toEqual({ state: "dnd" });

    // The partner ends it: rejected is final, so the user hears unsubscribed.
    dana.notifyIn(first, "terminated;reason=rejected");
    await until(() => h.recorder.delivered.find((e) => e.kind === "subscription" && e.type === "unsubscribed" && e.from === "dana@partner.test"), 3_000, "unsubscribed");
    expect(h.edge.dialogs.all().filter((d) => d.role === "subscriber")).toHaveLength(0);
  });

  it("a refused SUBSCRIBE is an XMPP unsubscribed and the SIP status comes back as a condition", async () => {
    dana.subscribeAnswer = { status: 403, reason: "Forbidden", expires: 0 };
    const r = await h.ctx.router.route(sub("subscribe", "carl@corp.test"));
    expect(r).toMatchObject({ delivered: false, error: { condition: "forbidden", text: "403 Forbidden" } });
    await until(() => h.recorder.delivered.find((e) => e.kind === "subscription" && e.type === "unsubscribed" && e.to === "carl@corp.test"), 3_000, "unsubscribed");
  });

  it("a NOTIFY for no dialog gets 481", async () => {
    dana.subscribeAnswer = { status: 200, reason: "OK", expires: 600 };
    expect(await h.ctx.router.route(sub("subscribe", "erin@corp.test"))).toMatchObject({ delivered: true });
    const s = await dana.waitFor("requests", (m) => m.method === "SUBSCRIBE" && m.headers.from?.uri === "sip:erin@corp.test");
    const fake = { ...s, headers: { ...s.headers, "call-id": "nosuch@corp.test" } };
    dana.responses.length = 0;
    dana.notifyIn(fake, "active;expires=600");
    const rs = await dana.waitFor("responses", (m) => m.headers.cseq?.method === "NOTIFY");
    expect(rs.status).toBe(481);
    // Unsubscribe sends SUBSCRIBE with Expires: 0 in the dialog.
    expect(await h.ctx.router.route(sub("unsubscribe", "erin@corp.test"))).toMatchObject({ delivered: true });
    const gone = await dana.waitFor("requests", (m) => m.method === "SUBSCRIBE" && m.headers["call-id"] === s.headers["call-id"] && String(m.headers.expires) === "0");
    expect(gone.headers.cseq!.seq).toBe(2);
  });
});
