/**
 * Split-mode figures, in one run: a partner user's messages through
 * partner Prosody -> s2s -> demarc mode edge (shipped policies, SQLite
 * archive) -> component -> internal Prosody -> user, against the baseline of
 * the same sender to a user beside it on the partner's own Prosody. The
 * shipped policies run, without their rate limits. Latency
 * (one message at a time, send to receipt) and throughput (back to back).
 * Loopback only (127.0.15.80-85), bounded in count and time.
 *
 *   npm run bench:edge      (needs prosody and lua-unbound, as the tests do)
 */
import { cpSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
// @ts-ignore -- @xmpp/client ships no type declarations
import { client, xml } from "@xmpp/client";
import { configSchema } from "../src/config/schema.js";
import { Gateway } from "../src/gateway/gateway.js";
import { defaultModules } from "../src/gateway/modules.js";
import { createLogger } from "../src/log.js";
import type { Element } from "../src/xmpp/index.js";
import { createTestCa } from "../test/helpers/ca.js";
import { startDnsServer } from "../test/helpers/dns-server.js";
import { startProsody } from "../test/helpers/prosody.js";
import { trustTestCa } from "../test/helpers/xmpp-tls.js";

const EDGE = "127.0.15.80";
const INTERNAL = "127.0.15.81";
const PEER = "127.0.15.82";
const DNS_ADDR = "127.0.15.85";
const LATENCY_N = 100;
const THROUGHPUT_N = 1_000;
const TIMEOUT_MS = 60_000;

interface Waiter {
  bodies: Map<string, () => void>;
}

async function user(address: string, domain: string, username: string, caPem: string) {
  trustTestCa(caPem);
  const x = client({ service: `xmpp://${address}:15222`, domain, username, password: "pw", resource: "bench" });
  const w: Waiter = { bodies: new Map() };
  x.on("error", () => undefined);
  x.on("stanza", (el: Element) => {
    const b = el.name === "message" ? el.getChildText("body") : null;
    if (b) w.bodies.get(b)?.();
  });
  await x.start();
  await x.send(xml("presence"));
  const arrival = (body: string) => new Promise<void>((res) => w.bodies.set(body, () => (w.bodies.delete(body), res())));
  return { x, arrival, stop: () => x.stop().catch(() => undefined) };
}

function within<T>(p: Promise<T>, what: string): Promise<T> {
  let t: NodeJS.Timeout;
  return Promise.race([p, new Promise<T>((_, rej) => (t = setTimeout(() => rej(new Error(`${what}: no result within ${TIMEOUT_MS} ms`)), TIMEOUT_MS)))]).finally(() => clearTimeout(t));
}

async function measure(label: string, from: Awaited<ReturnType<typeof user>>, to: Awaited<ReturnType<typeof user>>, toJid: string): Promise<void> {
  const send = (body: string) => from.x.send(xml("message", { to: toJid, type: "chat" }, xml("body", {}, body)));
  await within(Promise.all([to.arrival(`${label} warm`), send(`${label} warm`)]), `${label} warm-up`);
  const lat: number[] = [];
  for (let i = 0; i < LATENCY_N; i++) {
    const t = performance.now();
    await within(Promise.all([to.arrival(`${label} l${i}`), send(`${label} l${i}`)]), `${label} latency`);
    lat.push(performance.now() - t);
  }
  lat.sort((a, b) => a - b);
  const arrivals = Array.from({ length: THROUGHPUT_N }, (_, i) => to.arrival(`${label} t${i}`));
  const t0 = performance.now();
  for (let i = 0; i < THROUGHPUT_N; i++) void send(`${label} t${i}`);
  await within(Promise.all(arrivals), `${label} throughput`);
  const secs = (performance.now() - t0) / 1000;
  const pct = (q: number) => lat[Math.min(lat.length - 1, Math.floor(q * lat.length))]!.toFixed(1);
  console.log(`${label}: latency p50 ${pct(0.5)} ms, p95 ${pct(0.95)} ms (${LATENCY_N} one at a time); ${Math.round(THROUGHPUT_N / secs).toLocaleString("en")} msg/s (${THROUGHPUT_N} back to back, ${secs.toFixed(2)} s)`);
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "demarc-bench-edge-"));
  const ca = createTestCa(join(dir, "ca"));
  const leaf = ca.issue({ name: "corp", domains: ["corp.test"], xmppAddrs: ["corp.test"] });
  const dns = await startDnsServer(DNS_ADDR, {
    a: { "corp.test": [EDGE], "partner-a.test": [PEER] },
    srv: {
      "_xmpp-server._tcp.corp.test": [{ priority: 10, weight: 1, port: 15269, target: "corp.test" }],
      "_xmpp-server._tcp.partner-a.test": [{ priority: 10, weight: 1, port: 15269, target: "partner-a.test" }],
    },
  });
  const [internal, partner] = await Promise.all([
    startProsody({
      domain: "corp.test", address: INTERNAL, ca, dnsServer: dns.server, secureAuth: true, users: { alice: "pw" },
      extra: `component_ports = { 15347 }\ncomponent_interface = "${INTERNAL}"\nComponent "partner-a.test"\n  component_secret = "bench-secret"`,
    }),
    startProsody({ domain: "partner-a.test", address: PEER, ca, dnsServer: dns.server, secureAuth: true, users: { bob: "pw", carol: "pw" } }),
  ]);
  // The shipped policies, less the rate limits (600 messages a minute per partner), which a burst test would only measure.
  const policies = join(dir, "policies");
  cpSync(resolve(import.meta.dirname, "../policies"), policies, { recursive: true });
  rmSync(join(policies, "50-limits.yaml"));
  const parsed = configSchema.parse({
    mode: "edge",
    domains: ["corp.test"],
    data_dir: join(dir, "data"),
    log: { level: "warn", format: "json" },
    admin: { enabled: false },
    policy: { dir: policies, watch: false },
    tls: { dir: join(dir, "certs"), certificates: [{ cert: leaf.certPath, key: leaf.keyPath }], trust: { system: false, ca_files: [ca.certPath] } },
    dns: { servers: [dns.server], timeout_ms: 1000 },
    partners: [{ domain: "partner-a.test", auth: ["certificate"], rate: 1_000_000, burst: 1_000_000 }],
    s2s: { starttls: { host: EDGE, port: 15269 }, direct_tls: { enabled: false } },
    sip: { tls: { enabled: false }, tcp: { enabled: false }, udp: { enabled: false } },
    edge: { internal: [{ domains: ["corp.test"], host: INTERNAL, port: 15347, secret: "bench-secret" }] },
  });
  const gateway = new Gateway({ ...parsed, baseDir: dir, source: undefined }, createLogger({ level: "warn", format: "json" }), defaultModules("edge"));
  await gateway.start();
  const [bob, carol, alice] = [await user(PEER, "partner-a.test", "bob", ca.certPem), await user(PEER, "partner-a.test", "carol", ca.certPem), await user(INTERNAL, "corp.test", "alice", ca.certPem)];
  try {
    await measure("baseline: partner user -> user beside it on the partner's Prosody", bob, carol, "carol@partner-a.test");
    await measure("edge: partner Prosody -> s2s -> demarc edge (policies, archive) -> component -> internal Prosody -> user", bob, alice, "alice@corp.test");
  } finally {
    await Promise.all([bob.stop(), carol.stop(), alice.stop()]);
    await gateway.close();
    await Promise.all([internal.stop(), partner.stop()]);
    await dns.close();
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(`bench:edge failed: ${(err as Error).message}`);
    process.exit(1);
  },
);
