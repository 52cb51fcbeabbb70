import { describe, expect, it, beforeAll, afterAll } from "vitest";
import { createSocket } from "node:dgram";
import { createResolver, discover, orderSrv, parseServer, ServiceNotAvailableError, type SrvRecord } from "../../../src/edge/dns/resolver.js";
import { startDnsServer, type DnsServerHandle, type Zone } from "../../helpers/dns-server.js";

let dns: DnsServerHandle;

beforeAll(async () => {
  dns = await startDnsServer("127.0.7.1", zone);
});
const zone: Zone = {
    srv: {
      "_xmpp-server._tcp.partner.test": [
        { priority: 20, weight: 0, port: 5269, target: "backup.partner.test" },
        { priority: 10, weight: 5, port: 5269, target: "xmpp.partner.test" },
      ],
      "_xmpps-server._tcp.partner.test": [{ priority: 10, weight: 0, port: 5270, target: "xmpp.partner.test" }],
      "_xmpp-server._tcp.declined.test": [{ priority: 0, weight: 0, port: 0, target: "." }],
    },
    a: { "xmpp.partner.test": ["127.0.7.10"], "backup.partner.test": ["127.0.7.11"], "plain.test": ["127.0.7.12"], "declined.test": ["127.0.7.13"] },
    aaaa: { "xmpp.partner.test": ["::1"] },
};
afterAll(async () => dns.close());

describe("orderSrv (RFC 2782)", () => {
  const recs: SrvRecord[] = [
    { name: "c", port: 1, priority: 2, weight: 0 },
    { name: "a", port: 1, priority: 1, weight: 90 },
    { name: "b", port: 1, priority: 1, weight: 10 },
  ];
  it("puts lower priorities first", () => {
    expect(orderSrv(recs).at(-1)!.name).toBe("c");
  });
  it("picks by weight within a priority", () => {
    let aFirst = 0;
    let seed = 1;
    const rnd = () => ((seed = (seed * 16807) % 2147483647) - 1) / 2147483646;
    for (let i = 0; i < 1000; i++) if (orderSrv(recs, rnd)[0]!.name === "a") aFirst++;
    expect(aFirst).toBeGreaterThan(830);
    expect(aFirst).toBeLessThan(960);
  });
  it("lets zero-weight records be chosen, rarely, when others have weight", () => {
    const zero: SrvRecord[] = [{ name: "z", port: 1, priority: 1, weight: 0 }, { name: "w", port: 1, priority: 1, weight: 1 }];
    expect(orderSrv(zero, () => 0)[0]!.name).toBe("z");
    expect(orderSrv(zero, () => 0.99)[0]!.name).toBe("w");
  });
});

describe("parseServer", () => {
  it("reads IP, IP:PORT and [IPv6]:PORT, and refuses names", () => {
    expect(parseServer("127.0.7.1")).toEqual({ host: "127.0.7.1", port: 53 });
    expect(parseServer("127.0.7.1:5353")).toEqual({ host: "127.0.7.1", port: 5353 });
    expect(parseServer("[::1]:5353")).toEqual({ host: "::1", port: 5353 });
    expect(() => parseServer("dns.example:53")).toThrow(/not IP or IP:PORT/);
    expect(parseServer("::1")).toEqual({ host: "::1", port: 53 });
    for (const bad of ["127.0.0.1:99999", "127.0.0.1:0", "[::1]:70000", "127.0.0.1:", "127.0.0.1:53x"]) {
      expect(() => parseServer(bad), bad).toThrow(`DNS server "${bad}" is not IP or IP:PORT (port 1-65535)`);
    }
  });
});

// One contract for both transports: dns2 (servers configured) and Node's resolver (the system path).
describe.each(["dns2", "node"] as const)("createResolver (%s) against a loopback dns2 server", (transport) => {
  it("answers SRV and addresses, [] for unknown names", async () => {
    const r = createResolver({ servers: [dns.server], timeoutMs: 1000, transport });
    const srv = await r.srv("_xmpp-server._tcp.partner.test");
    expect(srv).toHaveLength(2);
    expect(srv).toContainEqual({ name: "xmpp.partner.test", port: 5269, priority: 10, weight: 5 });
    expect(await r.addresses("xmpp.partner.test")).toEqual(["::1", "127.0.7.10"]);
    expect(await r.srv("_xmpp-server._tcp.nowhere.test")).toEqual([]);
    expect(await r.addresses("nowhere.test")).toEqual([]);
  });
  it("retries a truncated UDP answer over TCP", async () => {
    dns.setZone({ ...zone, truncateUdp: ["_xmpp-server._tcp.partner.test"] });
    try {
      const r = createResolver({ servers: [dns.server], timeoutMs: 1000, transport });
      expect(await r.srv("_xmpp-server._tcp.partner.test")).toHaveLength(2);
    } finally {
      dns.setZone(zone);
    }
  });

  it.skipIf(transport === "node")("caches answers for their TTL (dns2 gives SRV TTLs)", async () => {
    let now = 1_000_000;
    const r = createResolver({ servers: [dns.server], timeoutMs: 1000, now: () => now });
    const before = dns.queries.length;
    await r.srv("_xmpps-server._tcp.partner.test");
    await r.srv("_xmpps-server._tcp.partner.test");
    expect(dns.queries.length - before).toBe(1);
    now += 61_000;
    await r.srv("_xmpps-server._tcp.partner.test");
    expect(dns.queries.length - before).toBe(2);
    // A name that does not exist is remembered too, for the negative TTL.
    await r.srv("_xmpp-server._tcp.gone.test");
    await r.srv("_xmpp-server._tcp.gone.test");
    expect(dns.queries.length - before).toBe(3);
    const uncached = createResolver({ servers: [dns.server], timeoutMs: 1000, now: () => now, maxTtlS: 0 });
    await uncached.srv("_xmpp-server._tcp.gone.test");
    await uncached.srv("_xmpp-server._tcp.gone.test");
    expect(dns.queries.length - before).toBe(5);
  });
  it("times out on a server that never answers, within the deadline", async () => {
    const silent = createSocket("udp4");
    await new Promise<void>((res) => silent.bind(0, "127.0.7.2", res));
    try {
      const r = createResolver({ servers: [`127.0.7.2:${silent.address().port}`], timeoutMs: 200, transport });
      const t0 = Date.now();
      await expect(r.srv("_xmpp-server._tcp.partner.test")).rejects.toThrow(/timed out|ETIMEOUT/);
      expect(Date.now() - t0).toBeLessThan(1500);
    } finally {
      silent.close();
    }
  });
});

describe.each(["dns2", "node"] as const)("discover (%s)", (transport) => {
  it("orders direct TLS before STARTTLS as asked and resolves targets", async () => {
    const r = createResolver({ servers: [dns.server], timeoutMs: 1000, transport });
    const c = await discover(r, "partner.test", ["_xmpps-server._tcp", "_xmpp-server._tcp"], 5269);
    expect(c[0]).toEqual({ host: "xmpp.partner.test", address: "::1", port: 5270, service: "_xmpps-server._tcp" });
    expect(c.map((x) => `${x.address}:${x.port}`)).toEqual(["::1:5270", "127.0.7.10:5270", "::1:5269", "127.0.7.10:5269", "127.0.7.11:5269"]);
  });
  it("falls back to the domain's addresses on the default port when there is no SRV", async () => {
    const r = createResolver({ servers: [dns.server], timeoutMs: 1000, transport });
    expect(await discover(r, "plain.test", ["_xmpp-server._tcp"], 5269)).toEqual([{ host: "plain.test", address: "127.0.7.12", port: 5269, service: "fallback" }]);
  });
  it("treats a lone '.' target as service decidedly not available (no fallback)", async () => {
    const r = createResolver({ servers: [dns.server], timeoutMs: 1000, transport });
    await expect(discover(r, "declined.test", ["_xmpp-server._tcp"], 5269)).rejects.toBeInstanceOf(ServiceNotAvailableError);
  });
});
