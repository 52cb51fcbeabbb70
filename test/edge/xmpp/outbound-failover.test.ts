/**
 * Outbound failover past the TCP connect: targets that accept the connection
 * but then present a bad certificate, stall the stream header, or refuse
 * authentication are passed over for the next SRV target (a second demarc
 * as the good partner); when every target fails, the queued stanzas bounce
 * with the condition of the last failure and a reason per target.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createTestCa } from "../../helpers/ca.js";
import { startDnsServer, type DnsServerHandle } from "../../helpers/dns-server.js";
import { startTestGateway, type TestGateway } from "../../helpers/xmpp-gateway.js";
import { startBadTarget, type BadTarget } from "../../helpers/xmpp-bad-target.js";
import { until } from "../../helpers/wait.js";

// 127.0.23.0/24 is used by no other test.
const A = "127.0.23.1"; // corp.test
const B = "127.0.23.2"; // vault.test, tarpit.test and relay.test: the good partner
const WRONG_NAME = "127.0.23.10";
const UNTRUSTED = "127.0.23.11";
const TARPIT = "127.0.23.12";
const LOCKED_DIRECT = "127.0.23.13";
const LOCKED_STARTTLS = "127.0.23.14";
const STALL = "127.0.23.15";
const NO_TLS = "127.0.23.16";
const HOST_UNKNOWN = "127.0.23.17";
const STUCK = "127.0.23.18";
const CONNECT_TIMEOUT_MS = 1_500;
const srv = (target: string, port: number, priority = 10, weight = 1) => ({ priority, weight, port, target });

let dns: DnsServerHandle;
let a: TestGateway;
let b: TestGateway;
let dnsServer: string;
let corpTls: Record<string, unknown>;
const bad: Record<string, BadTarget> = {};

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), "s2s-failover-"));
  const ca = createTestCa(join(dir, "ca"));
  const rogueCa = createTestCa(join(dir, "rogue-ca"));
  const corp = ca.issue({ name: "corp", domains: ["corp.test"] });
  const vault = ca.issue({ name: "vault", domains: ["vault.test", "tarpit.test", "relay.test"] });
  const elsewhere = ca.issue({ name: "elsewhere", domains: ["elsewhere.test"] });
  const forged = rogueCa.issue({ name: "forged", domains: ["vault.test"] });
  const locked = ca.issue({ name: "locked", domains: ["locked.test", "mixed.test"] });

  const entries = await Promise.all([
    startBadTarget({ host: WRONG_NAME, domain: "vault.test", behaviour: "refuse-auth", cert: elsewhere.cert, key: elsewhere.key }),
    startBadTarget({ host: UNTRUSTED, domain: "vault.test", behaviour: "refuse-auth", cert: forged.cert, key: forged.key, directTls: true }),
    startBadTarget({ host: TARPIT, domain: "tarpit.test", behaviour: "stall" }),
    startBadTarget({ host: LOCKED_DIRECT, domain: "locked.test", behaviour: "refuse-auth", cert: locked.cert, key: locked.key, directTls: true }),
    startBadTarget({ host: LOCKED_STARTTLS, domain: "locked.test", behaviour: "refuse-auth", cert: locked.cert, key: locked.key }),
    startBadTarget({ host: STALL, domain: "mixed.test", behaviour: "stall" }),
    startBadTarget({ host: NO_TLS, domain: "relay.test", behaviour: "refuse-starttls" }),
    startBadTarget({ host: HOST_UNKNOWN, domain: "relay.test", behaviour: "stream-error" }),
    startBadTarget({ host: STUCK, domain: "stuck.test", behaviour: "stall" }),
  ]);
  for (const t of entries) bad[t.host] = t;
  const port = (host: string) => bad[host]!.port;

  dns = await startDnsServer("127.0.23.53", {
    a: {
      "corp.test": [A],
      "good.host.test": [B],
      "wrong.host.test": [WRONG_NAME],
      "untrusted.host.test": [UNTRUSTED],
      "tarpit.host.test": [TARPIT],
      "locked1.host.test": [LOCKED_DIRECT],
      "locked2.host.test": [LOCKED_STARTTLS],
      "stall.host.test": [STALL],
      "notls.host.test": [NO_TLS],
      "unknown.host.test": [HOST_UNKNOWN],
      "stuck.host.test": [STUCK],
    },
    srv: {
      "_xmpp-server._tcp.corp.test": [srv("corp.test", 15269)],
      // Direct TLS first (XEP-0368), then STARTTLS in priority order; only the last is genuine.
      "_xmpps-server._tcp.vault.test": [srv("untrusted.host.test", port(UNTRUSTED))],
      "_xmpp-server._tcp.vault.test": [srv("wrong.host.test", port(WRONG_NAME), 5), srv("good.host.test", 15269, 10)],
      "_xmpp-server._tcp.tarpit.test": [srv("tarpit.host.test", port(TARPIT), 5), srv("good.host.test", 15269, 10)],
      "_xmpps-server._tcp.locked.test": [srv("locked1.host.test", port(LOCKED_DIRECT))],
      "_xmpp-server._tcp.locked.test": [srv("locked2.host.test", port(LOCKED_STARTTLS))],
      "_xmpp-server._tcp.relay.test": [srv("notls.host.test", port(NO_TLS), 1), srv("unknown.host.test", port(HOST_UNKNOWN), 2), srv("good.host.test", 15269, 3)],
      "_xmpp-server._tcp.stuck.test": [srv("stuck.host.test", port(STUCK))],
      "_xmpp-server._tcp.mixed.test": [srv("locked2.host.test", port(LOCKED_STARTTLS), 5), srv("stall.host.test", port(STALL), 10)],
    },
  });
  const common = (host: string) => ({
    dns: { servers: [dns.server], timeout_ms: 500 },
    s2s: { starttls: { host, port: 15269 }, direct_tls: { host, port: 15270 }, connect_timeout_ms: CONNECT_TIMEOUT_MS, idle_timeout_ms: 1_500 },
  });
  const trust = { system: false, ca_files: [ca.certPath] };
  dnsServer = dns.server;
  corpTls = { certificates: [{ cert: corp.certPath, key: corp.keyPath }], trust };
  [a, b] = await Promise.all([
    startTestGateway({
      domains: ["corp.test"],
      tls: { certificates: [{ cert: corp.certPath, key: corp.keyPath }], trust },
      ...common(A),
      partners: [
        { domain: "vault.test", auth: ["certificate"] },
        { domain: "tarpit.test", auth: ["certificate"] },
        { domain: "relay.test", auth: ["certificate"] },
        { domain: "locked.test", auth: ["certificate", "dialback"] },
        { domain: "mixed.test", auth: ["certificate", "dialback"] },
      ],
    }),
    startTestGateway({
      domains: ["vault.test", "tarpit.test", "relay.test"],
      tls: { certificates: [{ cert: vault.certPath, key: vault.keyPath }], trust },
      ...common(B),
      partners: [{ domain: "corp.test", auth: ["certificate"] }],
    }),
  ]);
});

afterAll(async () => {
  await Promise.all([a?.close(), b?.close(), ...Object.values(bad).map((t) => t.close())]);
  await dns?.close();
});

const logged = (gw: TestGateway, msg: string) => gw.logs.filter((l) => l.msg === msg);
const failedOver = (domain: string) => logged(a, "s2s connect failed; trying the next target").filter((l) => l.domain === domain);
const where = (host: string, ip: string) => `${host}[${ip}]:${bad[ip]!.port}`;

describe("s2s outbound failover after the connect", () => {
  it("passes over targets whose certificate is from an untrusted CA or names another domain, and delivers via the next", async () => {
    const r = await a.route({ kind: "message", from: "bob@corp.test", to: "teller@vault.test", body: "via the real one" });
    expect(r.delivered).toBe(true);
    const env = await b.sink.waitFor((e) => e.body === "via the real one");
    expect(env.security?.auth).toBe("certificate");
    expect(failedOver("vault.test")).toEqual([
      expect.objectContaining({ target: where("untrusted.host.test", UNTRUSTED), err: expect.stringMatching(/^certificate of vault\.test not acceptable: certificate chain not trusted/) }),
      expect.objectContaining({ target: where("wrong.host.test", WRONG_NAME), err: "certificate of vault.test not acceptable: certificate does not name vault.test (it names DNS:elsewhere.test)" }),
    ]);
    expect(logged(a, "s2s outbound stream ready").find((l) => l.remote === "vault.test")).toMatchObject({ target: `_xmpp-server._tcp good.host.test[${B}]:15269` });
    // Our certificate was never offered for authentication to an impostor, and neither connection was kept.
    for (const ip of [UNTRUSTED, WRONG_NAME]) {
      expect(bad[ip]!.accepted).toBe(1);
      expect(bad[ip]!.received).not.toMatch(/<auth/);
      await bad[ip]!.waitAllClosed();
    }
  });

  it("gives a target that never completes its stream header the per-target deadline, then moves on", async () => {
    const started = Date.now();
    const r = await a.route({ kind: "message", from: "bob@corp.test", to: "guard@tarpit.test", body: "past the tarpit" });
    const elapsed = Date.now() - started;
    expect(r.delivered).toBe(true);
    await b.sink.waitFor((e) => e.body === "past the tarpit");
    // The tarpit's trickle does not extend the deadline: it runs once, from the TCP connect on.
    expect(elapsed).toBeGreaterThanOrEqual(CONNECT_TIMEOUT_MS - 50);
    expect(elapsed).toBeLessThan(CONNECT_TIMEOUT_MS + 1_500);
    expect(failedOver("tarpit.test")).toEqual([
      expect.objectContaining({ target: where("tarpit.host.test", TARPIT), err: `set-up not done within ${CONNECT_TIMEOUT_MS} ms (waiting for the stream header)` }),
    ]);
    expect(bad[TARPIT]!.accepted).toBe(1);
    await bad[TARPIT]!.waitAllClosed();
  });

  it("passes over a target that fails STARTTLS and one that ends the stream with a stream error before authentication", async () => {
    const r = await a.route({ kind: "message", from: "bob@corp.test", to: "ops@relay.test", body: "third time" });
    expect(r.delivered).toBe(true);
    await b.sink.waitFor((e) => e.body === "third time");
    expect(failedOver("relay.test")).toEqual([
      expect.objectContaining({ target: where("notls.host.test", NO_TLS), err: "peer failed STARTTLS" }),
      expect.objectContaining({ target: where("unknown.host.test", HOST_UNKNOWN), err: "relay.test refused the stream: host-unknown" }),
    ]);
    for (const ip of [NO_TLS, HOST_UNKNOWN]) await bad[ip]!.waitAllClosed();
  });

  it("bounces every queued stanza with remote-server-not-found when every target refuses authentication", async () => {
    const results = await Promise.all([1, 2, 3].map((i) => a.route({ kind: "message", from: "bob@corp.test", to: "x@locked.test", body: `locked ${i}` })));
    const expected = new RegExp(
      `^locked\\.test unreachable: locked1\\.host\\.test\\[${LOCKED_DIRECT}\\]:\\d+ locked\\.test did not accept our dialback key \\(invalid\\); ` +
        `locked2\\.host\\.test\\[${LOCKED_STARTTLS}\\]:\\d+ locked\\.test did not accept our dialback key \\(invalid\\)$`,
    );
    for (const r of results) {
      expect(r).toMatchObject({ delivered: false, error: { condition: "remote-server-not-found", type: "cancel" } });
      if (!r.delivered) expect(r.error.text).toMatch(expected);
    }
    expect(logged(a, "s2s partner unreachable; bouncing queued stanzas").find((l) => l.remote === "locked.test")).toMatchObject({ bounced: 3, err: expect.stringMatching(expected) });
    // SASL EXTERNAL was refused, then dialback; one connection per target, no second round.
    for (const ip of [LOCKED_DIRECT, LOCKED_STARTTLS]) {
      expect(bad[ip]!.received).toMatch(/<auth[^>]*EXTERNAL[\s\S]*<db:result/);
      await bad[ip]!.waitAllClosed();
    }
    expect(bad[LOCKED_DIRECT]!.accepted).toBe(1);
    expect(bad[LOCKED_STARTTLS]!.accepted).toBe(1);
  });

  it("bounces with remote-server-timeout when the last target's failure was a timeout", async () => {
    const r = await a.route({ kind: "message", from: "bob@corp.test", to: "x@mixed.test", body: "nowhere" });
    expect(r).toMatchObject({ delivered: false, error: { condition: "remote-server-timeout", type: "wait" } });
    if (!r.delivered) {
      expect(r.error.text).toMatch(/^mixed\.test unreachable: locked2\.host\.test\S+ mixed\.test did not accept our dialback key \(invalid\); stall\.host\.test\S+ set-up not done within/);
    }
    await bad[STALL]!.waitAllClosed();
  });
});

describe("s2s outbound set-up at shutdown", () => {
  it("drops a target still being set up instead of waiting out its deadline", async () => {
    const c = await startTestGateway({
      domains: ["corp.test"],
      tls: corpTls,
      dns: { servers: [dnsServer], timeout_ms: 500 },
      s2s: { starttls: { enabled: false }, direct_tls: { enabled: false }, connect_timeout_ms: 20_000 },
      shutdown: { drain_ms: 100 },
    });
    const pending = c.route({ kind: "message", from: "bob@corp.test", to: "x@stuck.test", body: "at shutdown" });
    await until(() => bad[STUCK]!.accepted > 0, 5_000, "the stuck target to accept the connection");
    await c.close();
    expect(await pending).toMatchObject({ delivered: false, error: { condition: "remote-server-timeout", text: "gateway shutting down" } });
    await bad[STUCK]!.waitAllClosed(1_000);
  });
});

describe("s2s outbound queue limit", () => {
  it("refuses stanzas beyond queue_max at once with resource-constraint, and bounces the queued ones when set-up fails", async () => {
    const c = await startTestGateway({
      domains: ["corp.test"],
      tls: corpTls,
      dns: { servers: [dnsServer], timeout_ms: 500 },
      s2s: { starttls: { enabled: false }, direct_tls: { enabled: false }, connect_timeout_ms: CONNECT_TIMEOUT_MS, queue_max: 3 },
    });
    try {
      const sends = Array.from({ length: 5 }, (_, i) => c.route({ kind: "message", from: "bob@corp.test", to: "x@stuck.test", body: `q${i}` }));
      const results = await Promise.all(sends);
      const conditions = results.map((r) => (r.delivered ? "delivered" : r.error.condition));
      // The first three wait for the stream and are returned when the only target stalls; the rest never queue.
      expect(conditions).toEqual(["remote-server-timeout", "remote-server-timeout", "remote-server-timeout", "resource-constraint", "resource-constraint"]);
      const refused = results[3]!;
      if (!refused.delivered) expect(refused.error).toMatchObject({ type: "wait", text: "too many stanzas waiting for stuck.test" });
    } finally {
      await c.close();
    }
    await bad[STUCK]!.waitAllClosed(2_000);
  });
});
