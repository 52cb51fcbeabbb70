/**
 * SIPp as the partner's SIP peer, over TCP and (through a TLS relay holding
 * the partner's certificate, since Debian's SIPp has no TLS) over mutual TLS:
 * MESSAGE and SUBSCRIBE into demarc, NOTIFY and MESSAGE out of it.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { startEdge, type EdgeHarness } from "./harness.js";
import { until, waitForListener } from "../../helpers/wait.js";
import { exitedWith } from "../../helpers/peer-process.js";
import { RawSip, rawRequest } from "./raw-client.js";
import { runSipp, startSipp, tlsBridge, type Bridge } from "../../helpers/sipp.js";
import { startDnsServer, type DnsServerHandle } from "../../helpers/dns-server.js";
import { allowAll } from "../../../src/router/router.js";
import type { Compliance } from "../../../src/model/route.js";
import type { Envelope } from "../../../src/model/envelope.js";

const ADDR = "127.0.8.1";
const SIPP_UAS_TCP = { host: "127.0.8.12", port: 15060 };
const SIPP_UAS_BEHIND_TLS = { host: "127.0.8.14", port: 15061 };

const blockWord: Compliance = {
  async evaluate(e) {
    if (e.body?.includes("project-x")) {
      return { deliver: false, envelope: e, policyVersion: "t", verdicts: [], error: { condition: "policy-violation", type: "modify", text: "no-codenames: project-x stays inside" } };
    }
    return allowAll.evaluate(e);
  },
};

let h: EdgeHarness;
let dns: DnsServerHandle;
const bridges: Bridge[] = [];
let partnerCert: { cert: string; key: string };
let lyncCert: { cert: string; key: string };
let caPem: string;

beforeAll(async () => {
  dns = await startDnsServer("127.0.8.53", {});
  h = await startEdge({
    address: ADDR,
    dnsServer: dns.server,
    compliance: blockWord,
    partners: [
      { domain: "partner.test", protocol: "sip", profile: "lync" },
      { domain: "lync.test", protocol: "sip", profile: "lync" },
      { domain: "badcert.test", protocol: "sip", profile: "lync" },
    ],
  });
  caPem = h.ca.certPem;
  const p = h.ca.issue({ name: "partner", domains: ["partner.test"] });
  partnerCert = { cert: readFileSync(p.certPath, "utf8"), key: readFileSync(p.keyPath, "utf8") };
  const l = h.ca.issue({ name: "lync", domains: ["lync.test"] });
  lyncCert = { cert: readFileSync(l.certPath, "utf8"), key: readFileSync(l.keyPath, "utf8") };
  // Partner edges behind TLS: one with the right certificate, one presenting another domain's.
  const good = await tlsBridge({ mode: "from-tls", host: "127.0.8.13", target: SIPP_UAS_BEHIND_TLS, ...lyncCert, ca: caPem });
  const wrong = await tlsBridge({ mode: "from-tls", host: "127.0.8.16", target: SIPP_UAS_BEHIND_TLS, ...partnerCert, ca: caPem });
  bridges.push(good, wrong);
  dns.setZone({
    srv: {
      "_sip._tcp.partner.test": [{ priority: 10, weight: 1, port: SIPP_UAS_TCP.port, target: "sip.partner.test" }],
      "_sipfederationtls._tcp.lync.test": [{ priority: 0, weight: 0, port: good.port, target: "edge.lync.test" }],
      "_sipfederationtls._tcp.badcert.test": [{ priority: 0, weight: 0, port: wrong.port, target: "edge.badcert.test" }],
    },
    a: { "sip.partner.test": [SIPP_UAS_TCP.host], "edge.lync.test": ["127.0.8.13"], "edge.badcert.test": ["127.0.8.16"] },
  });
});

afterAll(async () => {
  for (const b of bridges) await b.close();
  await h?.close();
  await dns?.close();
});

function lastDelivered(kind: Envelope["kind"]): Envelope | undefined {
  return [...h.recorder.delivered].reverse().find((e) => e.kind === kind);
}

async function toTlsBridge(cert: { cert: string; key: string }, host: string): Promise<Bridge> {
  const b = await tlsBridge({ mode: "to-tls", host, target: { host: ADDR, port: h.edge.ports.TLS! }, ...cert, ca: caPem, servername: "corp.test" });
  bridges.push(b);
  return b;
}

async function subscribeAndNotify(remote: string, localIp: string): Promise<void> {
  const seen = new Set(h.edge.dialogs.all());
  const sipp = startSipp({ scenario: "subscribe-uac.xml", remote, transport: "t1", localIp, timeoutS: 10 });
  try {
    const d = await until(() => h.edge.dialogs.all().find((x) => !seen.has(x) && x.role === "notifier" && x.localCseq > 0 && x.remote === "alice@partner.test"), 8_000, "subscription dialog");
    expect(lastDelivered("subscription")).toMatchObject({ type: "subscribe", from: "alice@partner.test", to: "bob@corp.test" });
    // The core approves and sends bob's presence (on the phone): a NOTIFY with PIDF for Lync.
    const r = await h.ctx.router.route({
      id: `p-${Date.now()}`, receivedAt: Date.now(), direction: "outbound", protocol: "internal", kind: "presence",
      from: "bob@corp.test/desk", to: d.remote, partnerDomain: "partner.test", presence: { state: "on-the-phone" },
    });
    expect(r.delivered).toBe(true);
    const code = await sipp.exit;
    expect(code, `${sipp.stderr}\n${sipp.logs()}`).toBe(0);
  } finally {
    await sipp.stop();
  }
}

describe("SIPp into demarc over TCP", () => {
  it("MESSAGE is delivered and answered 200", async () => {
    const r = await runSipp({ scenario: "message-uac.xml", remote: `${ADDR}:${h.edge.ports.TCP}`, transport: "t1", localIp: "127.0.8.10", keys: { text: "hello from sipp" } });
    expect(r.code, r.report).toBe(0);
    expect(lastDelivered("message")).toMatchObject({ from: "alice@partner.test", to: "bob@corp.test", protocol: "sip" });
    expect(lastDelivered("message")!.body!.trim()).toBe("hello from sipp");
  });

  it("a blocked MESSAGE gets 403 with the rule's Warning", async () => {
    const r = await runSipp({ scenario: "message-blocked-uac.xml", remote: `${ADDR}:${h.edge.ports.TCP}`, transport: "t1", localIp: "127.0.8.10", keys: { text: "about project-x" } });
    expect(r.code, r.report).toBe(0);
  });

  it("SUBSCRIBE gets 200, an immediate NOTIFY, then NOTIFY with Lync PIDF", async () => {
    await subscribeAndNotify(`${ADDR}:${h.edge.ports.TCP}`, "127.0.8.10");
  });
});

describe("SIPp into demarc over mutual TLS", () => {
  it("MESSAGE from a partner whose certificate names its domain is delivered", async () => {
    const b = await toTlsBridge(partnerCert, "127.0.8.11");
    const r = await runSipp({ scenario: "message-uac.xml", remote: `127.0.8.11:${b.port}`, transport: "t1", localIp: "127.0.8.11", keys: { text: "over tls" } });
    expect(r.code, r.report).toBe(0);
    const e = lastDelivered("message")!;
    expect(e.body!.trim()).toBe("over tls");
    expect(e.security?.auth).toBe("certificate");
    expect(e.security?.tlsVersion).toMatch(/^TLSv1\.[23]$/);
    expect(e.security?.certFingerprint).toMatch(/^[0-9A-F:]+$/);
  });

  it("SUBSCRIBE and NOTIFY over TLS", async () => {
    const b = await toTlsBridge(partnerCert, "127.0.8.11");
    await subscribeAndNotify(`127.0.8.11:${b.port}`, "127.0.8.11");
  });

  it("refuses a From domain the certificate does not name (RFC 5922) with 403", async () => {
    const c = await RawSip.tls(ADDR, h.edge.ports.TLS!, { ...lyncCert, ca: caPem, servername: "corp.test", localAddress: "127.0.8.15" });
    c.write(rawRequest({ body: "spoof", from: "sip:alice@partner.test" }));
    const rs = await c.next();
    expect(rs.status).toBe(403);
    expect(String(rs.headers.warning)).toContain("certificate not accepted for partner.test");
    c.close();
  });

  it("refuses a client without a certificate", async () => {
    const c = await RawSip.tls(ADDR, h.edge.ports.TLS!, { ca: caPem, servername: "corp.test", localAddress: "127.0.8.15" });
    c.write(rawRequest({ body: "anon" }));
    expect((await c.next()).status).toBe(403);
    c.close();
  });
});

describe("demarc to SIPp", () => {
  const outbound = (to: string, domain: string, body: string): Envelope => ({
    id: `o-${Date.now()}-${Math.random()}`, receivedAt: Date.now(), direction: "outbound", protocol: "internal", kind: "message",
    type: "chat", from: "bob@corp.test/desk", to, partnerDomain: domain, body,
  });

  it("MESSAGE found through _sip._tcp SRV over TCP", async () => {
    const uas = startSipp({ scenario: "message-uas.xml", transport: "t1", localIp: SIPP_UAS_TCP.host, localPort: SIPP_UAS_TCP.port, timeoutS: 10 });
    try {
      await waitForListener(SIPP_UAS_TCP.host, SIPP_UAS_TCP.port, 5_000, () => exitedWith(uas.child));
      const r = await h.ctx.router.route(outbound("carol@partner.test", "partner.test", "hello partner"));
      expect(r, JSON.stringify(r)).toMatchObject({ delivered: true });
      expect(await uas.exit, `${uas.stderr}\n${uas.logs()}`).toBe(0);
    } finally {
      await uas.stop();
    }
  });

  it("MESSAGE found through _sipfederationtls._tcp over mutual TLS, certificate checked against the SIP domain", async () => {
    const uas = startSipp({ scenario: "message-uas.xml", transport: "t1", localIp: SIPP_UAS_BEHIND_TLS.host, localPort: SIPP_UAS_BEHIND_TLS.port, timeoutS: 10 });
    try {
      await waitForListener(SIPP_UAS_BEHIND_TLS.host, SIPP_UAS_BEHIND_TLS.port, 5_000, () => exitedWith(uas.child));
      const r = await h.ctx.router.route(outbound("dave@lync.test", "lync.test", "hello partner over tls"));
      expect(r).toMatchObject({ delivered: true });
      expect(await uas.exit, `${uas.stderr}\n${uas.logs()}`).toBe(0);
    } finally {
      await uas.stop();
    }
  });

  it("a partner whose certificate names another domain is not reached", async () => {
    const r = await h.ctx.router.route(outbound("erin@badcert.test", "badcert.test", "x"));
    expect(r).toMatchObject({ delivered: false, error: { condition: "remote-server-not-found" } });
  });
});
