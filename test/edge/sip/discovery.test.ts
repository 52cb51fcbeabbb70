/**
 * Reaching SIP partners (RFC 3263 with the configured SRV order): a partner
 * that only publishes _sip._udp is reached over UDP with retransmissions
 * (Timer E); one with no SRV at all is reached on its A record, TLS port 5061,
 * with its certificate checked against the SIP domain.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSocket, type Socket as UdpSocket } from "node:dgram";
import { createServer, type Server } from "node:tls";
import sip from "sip";
import { startEdge, type EdgeHarness } from "./harness.js";
import { startDnsServer, type DnsServerHandle } from "../../helpers/dns-server.js";
import { StreamFramer, parseDatagram } from "../../../src/edge/sip/framing.js";
import type { Envelope } from "../../../src/model/envelope.js";

const ADDR = "127.0.8.44";
let h: EdgeHarness;
let dns: DnsServerHandle;
let udp: UdpSocket;
let tlsServer: Server;
const udpSeen: string[] = [];
const tlsSeen: string[] = [];

beforeAll(async () => {
  udp = createSocket("udp4");
  await new Promise<void>((r) => udp.bind(0, "127.0.8.45", () => r()));
  let datagrams = 0;
  udp.on("message", (data, rinfo) => {
    const r = parseDatagram(data.toString("binary"), { maxHeaderBytes: 65536, maxBodyBytes: 65536 });
    if (!r.ok) return;
    udpSeen.push(r.message.method!);
    // Drop the first transmission: only a retransmission gets an answer.
    if (++datagrams < 2) return;
    udp.send(Buffer.from(sip.stringify(sip.makeResponse(r.message, 200, "OK")), "binary"), rinfo.port, rinfo.address);
  });
  dns = await startDnsServer("127.0.8.56", {
    srv: { "_sip._udp.udp.test": [{ priority: 0, weight: 0, port: (udp.address() as { port: number }).port, target: "sip.udp.test" }] },
    a: { "sip.udp.test": ["127.0.8.45"], "fallback.test": ["127.0.8.46"] },
  });
  h = await startEdge({
    address: ADDR,
    dnsServer: dns.server,
    partners: [
      { domain: "udp.test", protocol: "sip", profile: "aol" },
      { domain: "fallback.test", protocol: "sip", profile: "aol" },
    ],
  });
  const cert = h.ca.issue({ name: "fallback", domains: ["fallback.test"] });
  const { readFileSync } = await import("node:fs");
  tlsServer = createServer({ cert: readFileSync(cert.certPath), key: readFileSync(cert.keyPath), ca: h.ca.certPem, requestCert: true, rejectUnauthorized: true }, (s) => {
    const f = new StreamFramer({ maxHeaderBytes: 65536, maxBodyBytes: 65536 });
    s.on("data", (c: Buffer) => {
      for (const r of f.push(c.toString("binary"))) {
        if (!r.ok) continue;
        tlsSeen.push(`${r.message.method} ${s.getPeerX509Certificate()?.subject.includes("corp.test") ? "client-cert" : "no-cert"}`);
        s.write(sip.stringify(sip.makeResponse(r.message, 200, "OK")), "binary");
      }
    });
    s.on("error", () => undefined);
  });
  await new Promise<void>((r) => tlsServer.listen(5061, "127.0.8.46", () => r()));
});

afterAll(async () => {
  await h?.close();
  udp?.close();
  await new Promise<void>((r) => (tlsServer ? tlsServer.close(() => r()) : r()));
  await dns?.close();
});

const msg = (to: string, domain: string): Envelope => ({
  id: `m-${Math.random()}`, receivedAt: Date.now(), direction: "outbound", protocol: "internal", kind: "message", type: "chat", from: "bob@corp.test", to, partnerDomain: domain, body: "hi",
});

describe("partner discovery", () => {
  it("uses _sip._udp and retransmits until answered", async () => {
    const r = await h.ctx.router.route(msg("u@udp.test", "udp.test"));
    expect(r).toMatchObject({ delivered: true });
    expect(udpSeen.filter((m) => m === "MESSAGE").length).toBeGreaterThanOrEqual(2);
  });

  it("falls back to the A record on TLS 5061, presenting our certificate", async () => {
    const r = await h.ctx.router.route(msg("f@fallback.test", "fallback.test"));
    expect(r).toMatchObject({ delivered: true });
    expect(tlsSeen).toEqual(["MESSAGE client-cert"]);
  });
});
