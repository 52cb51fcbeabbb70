/**
 * Reaching SIP partners (RFC 3263 with the configured SRV order): a partner
 * that only publishes _sip._udp is reached over UDP with retransmissions
 * (Timer E); one with no SRV at all is reached on its A record, TLS port 5061,
 * with its certificate checked against the SIP domain. Between services the
 * configured order wins: _sipfederationtls._tcp before _sips._tcp before
 * _sip._tcp, whatever the SRV priorities, and a "." target passes on to the
 * next service.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSocket, type Socket as UdpSocket } from "node:dgram";
import { createServer, type Server, type TLSSocket } from "node:tls";
import { createServer as createTcpServer, type Server as TcpServer, type AddressInfo, type Socket } from "node:net";
import { readFileSync } from "node:fs";
import sip from "sip";
import { startEdge, type EdgeHarness } from "./harness.js";
import { startDnsServer, type DnsServerHandle, type Zone } from "../../helpers/dns-server.js";
import { SipFrames, parseSip } from "../../helpers/sip-frames.js";
import type { Envelope } from "../../../src/model/envelope.js";

const ADDR = "127.0.8.44";
let h: EdgeHarness;
let dns: DnsServerHandle;
let udp: UdpSocket;
let tlsServer: Server;
let baseZone: Zone;
const udpSeen: string[] = [];
const tlsSeen: string[] = [];

beforeAll(async () => {
  udp = createSocket("udp4");
  await new Promise<void>((r) => udp.bind(0, "127.0.8.45", () => r()));
  let datagrams = 0;
  udp.on("message", (data, rinfo) => {
    const m = parseSip(data.toString("binary"));
    if (!m) return;
    udpSeen.push(m.method!);
    // Drop the first transmission: only a retransmission gets an answer.
    if (++datagrams < 2) return;
    udp.send(Buffer.from(sip.stringify(sip.makeResponse(m, 200, "OK")), "binary"), rinfo.port, rinfo.address);
  });
  baseZone = {
    srv: { "_sip._udp.udp.test": [{ priority: 0, weight: 0, port: (udp.address() as { port: number }).port, target: "sip.udp.test" }] },
    a: { "sip.udp.test": ["127.0.8.45"], "fallback.test": ["127.0.8.46"] },
  };
  dns = await startDnsServer("127.0.8.56", baseZone);
  h = await startEdge({
    address: ADDR,
    dnsServer: dns.server,
    partners: [
      { domain: "udp.test", protocol: "sip", profile: "aol" },
      { domain: "fallback.test", protocol: "sip", profile: "aol" },
      ...["both.test", "sipsonly.test", "mixed.test", "declined.test"].map((domain) => ({ domain, protocol: "sip", profile: "aol" })),
    ],
  });
  const cert = h.ca.issue({ name: "fallback", domains: ["fallback.test"] });
  tlsServer = createServer({ cert: readFileSync(cert.certPath), key: readFileSync(cert.keyPath), ca: h.ca.certPem, requestCert: true, rejectUnauthorized: true }, (s) => {
    const f = new SipFrames();
    s.on("data", (c: Buffer) => {
      for (const m of f.push(c.toString("binary"))) {
        tlsSeen.push(`${m.method} ${s.getPeerX509Certificate()?.subject.includes("corp.test") ? "client-cert" : "no-cert"}`);
        s.write(sip.stringify(sip.makeResponse(m, 200, "OK")), "binary");
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

/** A simulated partner server: what reached it, and over how many connections. */
interface PartnerListener {
  host: string;
  port: number;
  connections: number;
  /** "METHOD request-uri" per request received. */
  seen: string[];
  close(): Promise<void>;
}

async function startPartnerListener(transport: "TLS" | "TCP", host: string, domain: string, port = 0): Promise<PartnerListener> {
  const seen: string[] = [];
  const sockets = new Set<Socket>();
  const onStream = (s: Socket | TLSSocket) => {
    const f = new SipFrames();
    s.on("data", (c: Buffer) => {
      for (const m of f.push(c.toString("binary"))) {
        seen.push(`${m.method} ${m.uri}`);
        s.write(sip.stringify(sip.makeResponse(m, 200, "OK")), "binary");
      }
    });
    s.on("error", () => undefined);
  };
  let server: Server | TcpServer;
  if (transport === "TLS") {
    // The certificate names the SIP domain, not the SRV target (RFC 5922); our client certificate must verify.
    const cert = h.ca.issue({ name: `${domain}-${host}`, domains: [domain] });
    server = createServer({ cert: readFileSync(cert.certPath), key: readFileSync(cert.keyPath), ca: h.ca.certPem, requestCert: true, rejectUnauthorized: true }, onStream);
  } else {
    server = createTcpServer(onStream);
  }
  const close = () =>
    new Promise<void>((r) => {
      // The edge keeps its flows to partners pooled; close() would wait for them otherwise.
      for (const s of sockets) s.destroy();
      server.close(() => r());
    });
  const l: PartnerListener = { host, port: 0, connections: 0, seen, close };
  // Counted on the TCP accept, so an attempt that fails the TLS handshake still shows.
  server.on("connection", (s: Socket) => {
    l.connections++;
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(port, host, () => r()));
  l.port = (server.address() as AddressInfo).port;
  return l;
}

describe("partner discovery order between services", () => {
  // 127.0.27.0/24 is used by no other test.
  const at = {
    bothFed: "127.0.27.1",
    bothSips: "127.0.27.2",
    sipsOnly: "127.0.27.3",
    sipsOnlyA: "127.0.27.4",
    mixedSips: "127.0.27.5",
    mixedTcp: "127.0.27.6",
    declinedSips: "127.0.27.7",
  };
  const l: Record<keyof typeof at, PartnerListener> = {} as never;
  const srv = (target: string, port: number, priority: number) => [{ priority, weight: 0, port, target }];

  beforeAll(async () => {
    const started = await Promise.all([
      startPartnerListener("TLS", at.bothFed, "both.test"),
      startPartnerListener("TLS", at.bothSips, "both.test"),
      startPartnerListener("TLS", at.sipsOnly, "sipsonly.test"),
      startPartnerListener("TLS", at.sipsOnlyA, "sipsonly.test", 5061),
      startPartnerListener("TLS", at.mixedSips, "mixed.test"),
      startPartnerListener("TCP", at.mixedTcp, "mixed.test"),
      startPartnerListener("TLS", at.declinedSips, "declined.test"),
    ]);
    for (const [i, k] of (Object.keys(at) as (keyof typeof at)[]).entries()) l[k] = started[i]!;
    dns.setZone({
      srv: {
        ...baseZone.srv,
        // SRV priorities only order targets within a service: here they favour the service that must lose.
        "_sipfederationtls._tcp.both.test": srv("fed.both.test", l.bothFed.port, 20),
        "_sips._tcp.both.test": srv("sips.both.test", l.bothSips.port, 0),
        "_sips._tcp.sipsonly.test": srv("sips.sipsonly.test", l.sipsOnly.port, 10),
        "_sips._tcp.mixed.test": srv("sips.mixed.test", l.mixedSips.port, 20),
        "_sip._tcp.mixed.test": srv("sip.mixed.test", l.mixedTcp.port, 0),
        "_sipfederationtls._tcp.declined.test": [{ priority: 0, weight: 0, port: 0, target: "." }],
        "_sips._tcp.declined.test": srv("sips.declined.test", l.declinedSips.port, 10),
      },
      a: {
        ...baseZone.a,
        "fed.both.test": [at.bothFed],
        "sips.both.test": [at.bothSips],
        "sips.sipsonly.test": [at.sipsOnly],
        // The domain's own address, where the A/AAAA fallback would go: SRV records make it unused.
        "sipsonly.test": [at.sipsOnlyA],
        "sips.mixed.test": [at.mixedSips],
        "sip.mixed.test": [at.mixedTcp],
        "sips.declined.test": [at.declinedSips],
      },
    });
  });

  afterAll(async () => {
    await Promise.all(Object.values(l).map((x) => x.close()));
  });

  const idle = (...keys: (keyof typeof at)[]) => {
    for (const k of keys) expect({ [k]: l[k].connections, seen: l[k].seen }).toEqual({ [k]: 0, seen: [] });
  };

  it("prefers _sipfederationtls._tcp over _sips._tcp when a domain publishes both", async () => {
    const r = await h.ctx.router.route(msg("p@both.test", "both.test"));
    expect(r).toMatchObject({ delivered: true });
    expect(l.bothFed.seen).toEqual(["MESSAGE sip:p@both.test"]);
    idle("bothSips");
  });

  it("reaches a domain publishing only _sips._tcp over TLS at the SRV target, not at its A record", async () => {
    const r = await h.ctx.router.route(msg("p@sipsonly.test", "sipsonly.test"));
    expect(r).toMatchObject({ delivered: true });
    expect(l.sipsOnly.seen).toEqual(["MESSAGE sip:p@sipsonly.test"]);
    idle("sipsOnlyA");
  });

  it("uses TLS via _sips._tcp when a domain also publishes _sip._tcp, even with plain transports trusted", async () => {
    const r = await h.ctx.router.route(msg("p@mixed.test", "mixed.test"));
    expect(r).toMatchObject({ delivered: true });
    expect(l.mixedSips.seen).toEqual(["MESSAGE sip:p@mixed.test"]);
    idle("mixedTcp");
  });

  it('moves on to the next service when one publishes "." (not offered)', async () => {
    const r = await h.ctx.router.route(msg("p@declined.test", "declined.test"));
    expect(r).toMatchObject({ delivered: true });
    expect(l.declinedSips.seen).toEqual(["MESSAGE sip:p@declined.test"]);
    expect(dns.queries).toEqual(expect.arrayContaining(["SRV _sipfederationtls._tcp.declined.test", "SRV _sips._tcp.declined.test"]));
  });
});
