/**
 * s2s figures: parser throughput against bare ltx (the baseline it wraps),
 * first-message set-up between two gateways (DNS SRV, TCP, STARTTLS, SASL
 * EXTERNAL), and sustained messages per second gateway -> gateway through
 * both routers. Loopback only (127.0.3.50-52), bounded in count and time.
 *
 *   npx tsx bench/s2s.ts
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { XmppStreamParser } from "../src/xmpp/stream-parser.js";
import { Parser } from "../src/xmpp/xml.js";
import { createTestCa } from "../test/helpers/ca.js";
import { startDnsServer } from "../test/helpers/dns-server.js";
import { startTestGateway } from "../test/helpers/xmpp-gateway.js";

process.env.DEMARC_TEST_LOG ??= "warn";

const HEADER = "<stream:stream xmlns='jabber:server' xmlns:stream='http://etherx.jabber.org/streams' to='corp.test' from='p.test' version='1.0'>";
const STANZA = "<message from='alice@p.test/r' to='bob@corp.test' type='chat' id='abc123'><body>Hello, how is the release going? &amp; the tests?</body><active xmlns='http://jabber.org/protocol/chatstates'/></message>";

function parserBench(): void {
  const n = 200_000;
  const batch = Buffer.from(STANZA.repeat(100));
  let t = performance.now();
  const ours = new XmppStreamParser();
  let count = 0;
  ours.on("stanza", () => count++);
  ours.write(Buffer.from(HEADER));
  for (let i = 0; i < n / 100; i++) ours.write(batch);
  const oursMs = performance.now() - t;
  if (count !== n) throw new Error(`parsed ${count} of ${n}`);
  t = performance.now();
  const bare = new Parser();
  let bareCount = 0;
  bare.on("element", () => bareCount++);
  bare.write(HEADER);
  const text = batch.toString();
  for (let i = 0; i < n / 100; i++) bare.write(text);
  const bareMs = performance.now() - t;
  console.log(`parser: ${Math.round(n / (oursMs / 1000)).toLocaleString("en")} stanzas/s with the restricted-XML scanner and caps; bare ltx ${Math.round(bareCount / (bareMs / 1000)).toLocaleString("en")} stanzas/s (${(oursMs / bareMs).toFixed(2)}x)`);
}

async function federationBench(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "bench-s2s-"));
  const ca = createTestCa(join(dir, "ca"));
  const corp = ca.issue({ name: "corp", domains: ["corp.test"] });
  const partner = ca.issue({ name: "partner", domains: ["partner.test"] });
  const dns = await startDnsServer("127.0.3.52", {
    a: { "corp.test": ["127.0.3.50"], "partner.test": ["127.0.3.51"] },
    srv: {
      "_xmpp-server._tcp.corp.test": [{ priority: 1, weight: 1, port: 15269, target: "corp.test" }],
      "_xmpp-server._tcp.partner.test": [{ priority: 1, weight: 1, port: 15269, target: "partner.test" }],
    },
  });
  const gw = (domain: string, host: string, cert: { certPath: string; keyPath: string }) =>
    startTestGateway({
      domains: [domain],
      log: { level: "warn" },
      tls: { certificates: [{ cert: cert.certPath, key: cert.keyPath }], trust: { system: false, ca_files: [ca.certPath] } },
      dns: { servers: [dns.server] },
      s2s: { starttls: { host, port: 15269 }, direct_tls: { enabled: false }, rate: 1_000_000, burst: 1_000_000 },
    });
  const a = await gw("corp.test", "127.0.3.50", corp);
  const b = await gw("partner.test", "127.0.3.51", partner);
  try {
    const send = (i: number) => a.route({ kind: "message", from: "bob@corp.test/d", to: "alice@partner.test", type: "chat", body: `message ${i}` });
    let t = performance.now();
    await send(0);
    await b.sink.waitFor((e) => e.body === "message 0");
    console.log(`first message set-up (SRV + TCP + STARTTLS + SASL EXTERNAL + delivery): ${(performance.now() - t).toFixed(1)} ms`);
    const total = 20_000;
    const window = 500;
    t = performance.now();
    for (let i = 1; i <= total; i += window) {
      await Promise.all(Array.from({ length: Math.min(window, total - i + 1) }, (_, k) => send(i + k)));
    }
    const last = `message ${total}`;
    await b.sink.waitFor((e) => e.body === last, 60_000);
    const secs = (performance.now() - t) / 1000;
    console.log(`gateway -> gateway over s2s: ${Math.round(total / secs).toLocaleString("en")} msg/s (${total} messages, ${secs.toFixed(2)} s, both routers, TLS)`);
    const mem = process.memoryUsage();
    console.log(`process rss after run: ${(mem.rss / 1048576).toFixed(0)} MB (both gateways in one process)`);
  } finally {
    await a.close();
    await b.close();
    await dns.close();
  }
}

parserBench();
await federationBench();
