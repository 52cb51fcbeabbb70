/**
 * The outbound side against a second demarc as the partner: SRV discovery
 * with failover, direct TLS, dialback with a real verify callback, queueing
 * while a stream is set up, idle close, and bounces when a partner cannot be
 * reached or its certificate is not acceptable.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createTestCa } from "../../helpers/ca.js";
import { startDnsServer, type DnsServerHandle } from "../../helpers/dns-server.js";
import { startTestGateway, type TestGateway } from "../../helpers/xmpp-gateway.js";
import { RawPeer, header } from "../../helpers/xmpp-raw.js";
import { until } from "../../helpers/wait.js";

const A = "127.0.3.21"; // corp.test
const B = "127.0.3.24"; // partner-c.test, partner-d.test and bank.test
const DOWN = "127.0.3.25"; // nothing listens here
const srv = (target: string, port: number, priority = 10, weight = 1) => ({ priority, weight, port, target });

let dns: DnsServerHandle;
let a: TestGateway;
let b: TestGateway;
let caPem: string;

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), "s2s-pool-"));
  const ca = createTestCa(join(dir, "ca"));
  caPem = ca.certPem;
  const corp = ca.issue({ name: "corp", domains: ["corp.test"] });
  const partner = ca.issue({ name: "partner", domains: ["partner-c.test", "partner-d.test"] });
  dns = await startDnsServer("127.0.3.23", {
    a: { "corp.test": [A], "b.host.test": [B], "down.host.test": [DOWN] },
    srv: {
      "_xmpp-server._tcp.corp.test": [srv("corp.test", 15269)],
      // The first target is down: the connection fails over to the second.
      "_xmpp-server._tcp.partner-c.test": [srv("down.host.test", 15269, 5), srv("b.host.test", 15269, 10)],
      "_xmpps-server._tcp.partner-d.test": [srv("b.host.test", 15270)],
      "_xmpp-server._tcp.bank.test": [srv("b.host.test", 15269)],
      "_xmpp-server._tcp.gone.test": [srv("down.host.test", 15269), srv("down.host.test", 15271, 20)],
    },
  });
  const common = (host: string) => ({
    dns: { servers: [dns.server], timeout_ms: 500 },
    s2s: { starttls: { host, port: 15269 }, direct_tls: { host, port: 15270 }, connect_timeout_ms: 3_000, idle_timeout_ms: 1_500 },
  });
  [a, b] = await Promise.all([
    startTestGateway({
      domains: ["corp.test"],
      tls: { certificates: [{ cert: corp.certPath, key: corp.keyPath }], trust: { system: false, ca_files: [ca.certPath] } },
      ...common(A),
      partners: [
        { domain: "partner-c.test", auth: ["dialback"] },
        { domain: "bank.test", auth: ["certificate"] },
      ],
    }),
    startTestGateway({
      domains: ["partner-c.test", "partner-d.test", "bank.test"],
      tls: { certificates: [{ cert: partner.certPath, key: partner.keyPath }], trust: { system: false, ca_files: [ca.certPath] } },
      ...common(B),
      partners: [{ domain: "corp.test", auth: ["dialback"] }],
    }),
  ]);
});

afterAll(async () => {
  await Promise.all([a?.close(), b?.close()]);
  await dns?.close();
});

const logged = (gw: TestGateway, msg: string) => gw.logs.filter((l) => l.msg === msg);

describe("s2s outbound pool", () => {
  it("fails over to the next SRV target, authenticates with dialback and keeps order of stanzas queued meanwhile", async () => {
    const sends = Array.from({ length: 50 }, (_, i) => a.route({ kind: "message", from: "bob@corp.test/desk", to: "carl@partner-c.test", type: "chat", body: `n${i}` }));
    const results = await Promise.all(sends);
    expect(results.every((r) => r.delivered)).toBe(true);
    await b.sink.waitFor((e) => e.body === "n49");
    const bodies = b.sink.delivered.filter((e) => e.to === "carl@partner-c.test").map((e) => e.body);
    expect(bodies).toEqual(Array.from({ length: 50 }, (_, i) => `n${i}`));
    expect(b.sink.delivered[0]!.security?.auth).toBe("dialback");
    expect(logged(a, "s2s connect failed; trying the next target")[0]).toMatchObject({ domain: "partner-c.test", target: `down.host.test[${DOWN}]:15269` });
    expect(logged(a, "s2s outbound stream ready")[0]).toMatchObject({ remote: "partner-c.test", via: "dialback", target: `_xmpp-server._tcp b.host.test[${B}]:15269` });
    // B asked A, the authoritative server for corp.test, to verify the key.
    expect(logged(b, "s2s inbound stream authenticated")[0]).toMatchObject({ remote: "corp.test", via: "dialback" });
  });

  it("connects with direct TLS when the partner publishes _xmpps-server (XEP-0368)", async () => {
    const r = await a.route({ kind: "message", from: "bob@corp.test", to: "dora@partner-d.test", body: "direct" });
    expect(r.delivered).toBe(true);
    const env = await b.sink.waitFor((e) => e.body === "direct");
    expect(env.security?.tlsVersion).toMatch(/^TLSv1\.[23]$/);
    expect(logged(a, "s2s outbound stream ready").find((l) => l.remote === "partner-d.test")).toMatchObject({ target: `_xmpps-server._tcp b.host.test[${B}]:15270` });
  });

  it("bounces every queued stanza when the partner cannot be reached", async () => {
    const results = await Promise.all([1, 2, 3].map((i) => a.route({ kind: "message", from: "bob@corp.test", to: "x@gone.test", body: `lost ${i}` })));
    for (const r of results) {
      expect(r.delivered).toBe(false);
      if (!r.delivered) {
        expect(r.error.condition).toBe("remote-server-not-found");
        expect(r.error.text).toMatch(/gone\.test unreachable/);
      }
    }
  });

  it("bounces when the partner's domain has no address at all", async () => {
    const r = await a.route({ kind: "message", from: "bob@corp.test", to: "x@nowhere.test", body: "void" });
    expect(r).toMatchObject({ delivered: false, error: { condition: "remote-server-not-found" } });
  });

  it("refuses a certificate-only partner whose certificate does not name it", async () => {
    const r = await a.route({ kind: "message", from: "bob@corp.test", to: "teller@bank.test", body: "secret" });
    expect(r.delivered).toBe(false);
    if (!r.delivered) expect(r.error.text).toMatch(/certificate of bank\.test not acceptable: certificate does not name bank\.test/);
    expect(b.sink.delivered.some((e) => e.body === "secret")).toBe(false);
  });

  it("sends presence rendered for the partner and closes idle streams", async () => {
    const r = await a.route({ kind: "presence", from: "bob@corp.test/desk", to: "carl@partner-c.test", presence: { state: "busy", note: "release" } });
    expect(r.delivered).toBe(true);
    const p = await b.sink.waitFor((e) => e.kind === "presence" && e.from === "bob@corp.test/desk");
    expect(p.presence).toMatchObject({ state: "busy", note: "release" });
    expect(a.s2s.pool!.size).toBeGreaterThan(0);
    await until(() => a.s2s.pool!.size === 0, 5_000, "the idle stream to close").catch(() => undefined);
    expect(a.s2s.pool!.size).toBe(0);
    // The next stanza opens a new stream.
    const again = await a.route({ kind: "message", from: "bob@corp.test", to: "carl@partner-c.test", body: "after idle" });
    expect(again.delivered).toBe(true);
    await b.sink.waitFor((e) => e.body === "after idle");
  });

  it("receiving role: a forged dialback key is checked with the authoritative server and refused", async () => {
    // A raw peer claims to be partner-c.test on a TLS stream to A; B, authoritative for partner-c.test, says invalid.
    const p = await RawPeer.connect(A, 15269);
    await p.write(header("partner-c.test", "corp.test"));
    await p.expect(/<starttls/);
    await p.starttls({ ca: caPem, servername: "corp.test" });
    await p.write(header("partner-c.test", "corp.test"));
    await p.expect(/urn:xmpp:features:dialback/);
    await p.write("<db:result from='partner-c.test' to='corp.test'>0123456789abcdef</db:result>");
    await p.expect(/<db:result[^>]*type=["']invalid["']/);
    await p.expect(/<\/stream:stream>/);
    expect(p.streamError()).toBe("not-authorized");
  });

  it("receiving role: an authoritative server that cannot be reached gives remote-server-not-found", async () => {
    const p = await RawPeer.connect(A, 15269);
    await p.write(header("gone.test", "corp.test"));
    await p.expect(/<starttls/);
    await p.starttls({ ca: caPem, servername: "corp.test" });
    await p.write(header("gone.test", "corp.test"));
    await p.expect(/urn:xmpp:features:dialback/);
    await p.write("<db:result from='gone.test' to='corp.test'>0123456789abcdef</db:result>");
    await p.expect(/<db:result[^>]*type=["']error["'][\s\S]*remote-server-not-found/);
    p.destroy();
  });

  it("counts stanzas and stream errors in the metrics", async () => {
    const text = await a.ctx.metrics.metrics();
    expect(text).toMatch(/demarc_s2s_stanzas_total\{[^}]*direction="outbound"[^}]*\} [1-9]/);
    expect(text).toMatch(/demarc_s2s_stream_errors_total\{[^}]*condition="not-authorized"[^}]*\} [1-9]/);
  });
});
