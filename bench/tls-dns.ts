/**
 * Certificate and DNS benchmarks:
 *   1. RFC 6125 peer identity checks per second (the check every s2s/SIP
 *      connection makes), against Node's tls.checkServerIdentity as baseline;
 *   2. SRV lookups against a dns2 server on loopback: uncached latency and
 *      cached throughput, against Node's dns.Resolver on the same server;
 *   3. time to make a multi-domain SAN certificate and a CSR (RSA 2048/3072).
 * Usage: npx tsx bench/tls-dns.ts   (npm run bench:tls-dns)
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { checkServerIdentity } from "node:tls";
import { X509Certificate } from "node:crypto";
import { promises as dnsp } from "node:dns";
import { checkPeerIdentity } from "../src/tls/peer.js";
import { LocalCa } from "../src/tls/ca.js";
import { buildCsr, generateKey } from "../src/tls/build.js";
import { hostedDomains, hostedSan } from "../src/tls/names.js";
import { createResolver } from "../src/edge/dns/resolver.js";
import { startDnsServer } from "../test/helpers/dns-server.js";

const rate = (n: number, ms: number) => Math.round(n / (ms / 1000)).toLocaleString("en");

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "demarc-bench-"));
  try {
    const domains = Array.from({ length: 20 }, (_, i) => `d${i}.corp.test`);
    const cfg = { domains, tls: { services: ["conference"], subdomains: [], per_domain: {} } };

    // 3 first: it also makes the certificate part 1 checks.
    const ca = LocalCa.init(join(dir, "ca"), { keyBits: 2048 });
    let t = performance.now();
    const issued = ca.issue({ commonName: domains[0]!, san: hostedSan(hostedDomains(cfg)) });
    const issueMs = performance.now() - t;
    t = performance.now();
    const k3072 = generateKey(3072);
    buildCsr({ commonName: domains[0]!, san: hostedSan(hostedDomains(cfg)), key: k3072.key, publicKey: k3072.publicKey });
    const csrMs = performance.now() - t;

    const x509 = new X509Certificate(issued.cert);
    const peer = x509.toLegacyObject();
    const N = 20_000;
    t = performance.now();
    for (let i = 0; i < N; i++) if (!checkPeerIdentity(x509, `conference.d${i % 20}.corp.test`, "xmpp-server").ok) throw new Error("mismatch");
    const oursMs = performance.now() - t;
    t = performance.now();
    for (let i = 0; i < N; i++) if (checkServerIdentity(`conference.d${i % 20}.corp.test`, peer) !== undefined) throw new Error("mismatch");
    const nodeMs = performance.now() - t;
    console.log(`peer identity (certificate with ${20 * 2} DNS-IDs, ${20 * 2} XmppAddr, ${20 * 3} SRVName):`);
    console.log(`  demarc checkPeerIdentity: ${rate(N, oursMs)} checks/s (names parsed once per certificate object)`);
    console.log(`  baseline tls.checkServerIdentity (DNS-IDs only, pre-parsed): ${rate(N, nodeMs)} checks/s`);

    const dns = await startDnsServer("127.0.7.60", { srv: { "_xmpp-server._tcp.p.test": [{ priority: 0, weight: 5, port: 5269, target: "xmpp.p.test" }] }, a: { "xmpp.p.test": ["127.0.7.61"] } });
    try {
      const Q = 500;
      t = performance.now();
      for (let i = 0; i < Q; i++) await createResolver({ servers: [dns.server], timeoutMs: 1000 }).srv("_xmpp-server._tcp.p.test");
      const uncachedMs = performance.now() - t;
      const node = new dnsp.Resolver();
      node.setServers([dns.server]);
      t = performance.now();
      for (let i = 0; i < Q; i++) await node.resolveSrv("_xmpp-server._tcp.p.test");
      const nodeDnsMs = performance.now() - t;
      const cached = createResolver({ servers: [dns.server], timeoutMs: 1000 });
      await cached.srv("_xmpp-server._tcp.p.test");
      const C = 200_000;
      t = performance.now();
      for (let i = 0; i < C; i++) await cached.srv("_xmpp-server._tcp.p.test");
      const cachedMs = performance.now() - t;
      console.log(`SRV lookups against a dns2 server on loopback (${Q} sequential queries):`);
      console.log(`  demarc resolver, uncached: ${(uncachedMs / Q).toFixed(3)} ms/query`);
      console.log(`  baseline node:dns Resolver: ${(nodeDnsMs / Q).toFixed(3)} ms/query`);
      console.log(`  demarc resolver, cached: ${rate(C, cachedMs)} lookups/s`);
    } finally {
      await dns.close();
    }
    console.log(`certificates for 20 domains + 20 conference services (60 names):`);
    console.log(`  issue with a new RSA 2048 key: ${issueMs.toFixed(0)} ms; CSR with a new RSA 3072 key: ${csrMs.toFixed(0)} ms`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
