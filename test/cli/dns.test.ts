import { describe, expect, it, beforeAll, afterAll } from "vitest";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { demarcCommand, workdir } from "../helpers/demarc.js";
import { startDnsServer, type DnsServerHandle, type Zone } from "../helpers/dns-server.js";

// This file's loopback addresses: 127.0.7.30-39.
let dir: string;
let dns: DnsServerHandle;
const config = {
  domains: ["corp.test"],
  tls: { services: ["conference"] },
  c2s: { starttls: { enabled: false }, direct_tls: { enabled: false } },
  sip: { tls: { enabled: true } },
  dns: { publish: { host: "edge.corp.test", ipv4: ["127.0.7.31"] } },
};
const srv = (port: number, target = "edge.corp.test") => [{ priority: 0, weight: 5, port, target }];
const goodZone: Zone = {
  srv: {
    "_xmpp-server._tcp.corp.test": srv(5269),
    "_xmpps-server._tcp.corp.test": srv(5270),
    "_sips._tcp.corp.test": srv(5061),
    "_sipfederationtls._tcp.corp.test": srv(5061),
    "_xmpp-server._tcp.conference.corp.test": srv(5269),
    "_xmpps-server._tcp.conference.corp.test": srv(5270),
  },
  a: { "edge.corp.test": ["127.0.7.31"] },
};
const run = (...args: string[]) => demarcCommand(["--config", join(dir, "demarc.yaml"), "dns", ...args], { cwd: dir });

beforeAll(async () => {
  dir = workdir(config).dir;
  dns = await startDnsServer("127.0.7.30", goodZone);
});
afterAll(async () => {
  await dns.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("demarc dns records", () => {
  it("prints every record in zone-file syntax", async () => {
    const r = await run("records");
    expect(r.code).toBe(0);
    const lines = r.stdout.split("\n").filter((l) => l && !l.startsWith(";")).map((l) => l.split("\t;")[0]);
    expect(lines).toEqual([
      "_xmpp-server._tcp.corp.test.\t3600\tIN\tSRV\t0 5 5269 edge.corp.test.",
      "_xmpps-server._tcp.corp.test.\t3600\tIN\tSRV\t0 5 5270 edge.corp.test.",
      "_sips._tcp.corp.test.\t3600\tIN\tSRV\t0 5 5061 edge.corp.test.",
      "_sipfederationtls._tcp.corp.test.\t3600\tIN\tSRV\t0 5 5061 edge.corp.test.",
      "_xmpp-server._tcp.conference.corp.test.\t3600\tIN\tSRV\t0 5 5269 edge.corp.test.",
      "_xmpps-server._tcp.conference.corp.test.\t3600\tIN\tSRV\t0 5 5270 edge.corp.test.",
      "edge.corp.test.\t3600\tIN\tA\t127.0.7.31",
    ]);
  });
});

describe("demarc dns check", () => {
  it("passes when everything is published", async () => {
    dns.setZone(goodZone);
    const r = await run("check", "--server", dns.server);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("all 7 records published correctly");
  });

  it("finds the missing record and the one that points elsewhere", async () => {
    const { "_xmpp-server._tcp.conference.corp.test": _dropped, ...rest } = goodZone.srv!;
    dns.setZone({ ...goodZone, srv: { ...rest, "_sips._tcp.corp.test": srv(5061, "old-edge.corp.test") } });
    const r = await run("check", "--server", dns.server);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^MISSING _xmpp-server\._tcp\.conference\.corp\.test\.\t3600\tIN\tSRV\t0 5 5269 edge\.corp\.test\./m);
    expect(r.stdout).toMatch(/^WRONG {3}_sips\._tcp\.corp\.test\..*\(found: 0 5 5061 old-edge\.corp\.test\.\)$/m);
    expect(r.stdout).toMatch(/^ok {6}_sipfederationtls\._tcp\.corp\.test\./m);
    expect(r.stdout).toContain("2 of 7 records need attention (1 missing, 1 pointing elsewhere)");
  });

  it("reports a wrong address record", async () => {
    dns.setZone({ ...goodZone, a: { "edge.corp.test": ["127.0.7.99"] } });
    const r = await run("check", "--server", dns.server);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^WRONG {3}edge\.corp\.test\.\t3600\tIN\tA\t127\.0\.7\.31.*\(found: 127\.0\.7\.99\)$/m);
  });

  it("refuses a bad --server and exits unavailable when the server does not answer", async () => {
    const bad = await run("check", "--server", "dns.example");
    expect(bad.code).toBe(64);
    expect(bad.stderr).toMatch(/--server: DNS server "dns.example" is not IP or IP:PORT/);
    const t0 = Date.now();
    const dead = await run("check", "--server", "127.0.7.39:9", "--timeout", "300");
    expect(dead.code).toBe(69);
    expect(dead.stderr).toMatch(/no DNS server answered/);
    expect(Date.now() - t0).toBeLessThan(8000);
  });
});
