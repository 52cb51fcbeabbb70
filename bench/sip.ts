/**
 * SIP edge figures: framing/parsing throughput (against the `sip` package's
 * own stream parser as the baseline, same bytes, same run), inbound MESSAGE
 * round trips over TCP through the real gateway path (router, a no-op
 * delivery), PIDF rendering and reading, and memory per subscription dialog.
 *
 *   npx tsx bench/sip.ts            (npm run bench:sip)
 */
import { mkdtempSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import sip from "sip";
import { configSchema } from "../src/config/schema.js";
import { Gateway } from "../src/gateway/gateway.js";
import { createLogger } from "../src/log.js";
import { sipModule } from "../src/edge/sip/module.js";
import { PresenceStates } from "../src/mapping/state-map.js";
import { tlsModule } from "../src/tls/module.js";
import { StreamFramer } from "../src/edge/sip/framing.js";
import { DialogStore } from "../src/edge/sip/dialogs.js";
import { fromPidf, toPidf } from "../src/mapping/pidf.js";
import { RICH_STATES } from "../src/model/presence.js";

const ADDR = process.env.BENCH_ADDR ?? "127.0.8.100";
const N = Number(process.env.BENCH_N ?? 20_000);

function message(i: number): string {
  const body = `message number ${i} — grüße`;
  return [
    `MESSAGE sip:bob@corp.test SIP/2.0`,
    `Via: SIP/2.0/TCP ${ADDR}:5060;branch=z9hG4bKbench${i}x${process.pid}`,
    `Max-Forwards: 70`,
    `From: <sip:alice@partner.test>;tag=b${i}`,
    `To: <sip:bob@corp.test>`,
    `Call-ID: bench-${i}-${process.pid}@partner.test`,
    `CSeq: 1 MESSAGE`,
    `Content-Type: text/plain;charset=UTF-8`,
    `Content-Length: ${Buffer.byteLength(body)}`,
    ``,
    body,
  ].join("\r\n");
}

function framing(): void {
  const stream = Buffer.from(Array.from({ length: N }, (_, i) => message(i)).join(""), "utf8").toString("binary");
  const chunks: string[] = [];
  for (let i = 0; i < stream.length; i += 1460) chunks.push(stream.slice(i, i + 1460));
  // Warm both up on the same bytes first so neither pays for the JIT alone.
  for (let w = 0; w < 2; w++) {
    const wf = new StreamFramer({ maxHeaderBytes: 16384, maxBodyBytes: 65536 });
    const wp = sip.makeStreamParser(() => undefined);
    for (const c of chunks.slice(0, 2000)) (wf.push(c), wp(c));
  }
  let t = performance.now();
  let ours = 0;
  const f = new StreamFramer({ maxHeaderBytes: 16384, maxBodyBytes: 65536 });
  for (const c of chunks) ours += f.push(c).length;
  const oursMs = performance.now() - t;
  t = performance.now();
  let theirs = 0;
  const p = sip.makeStreamParser(() => theirs++);
  for (const c of chunks) p(c);
  const theirsMs = performance.now() - t;
  console.log(`framing+parse, ${N} MESSAGEs in 1460-byte chunks:`);
  console.log(`  demarc StreamFramer      ${Math.round((ours / oursMs) * 1000).toLocaleString()} msg/s`);
  console.log(`  sip.makeStreamParser     ${Math.round((theirs / theirsMs) * 1000).toLocaleString()} msg/s (baseline)`);
}

function pidf(): void {
  const n = 20_000;
  let t = performance.now();
  const docs: string[] = [];
  for (let i = 0; i < n; i++) docs.push(toPidf("sip:bob@corp.test", { state: RICH_STATES[i % RICH_STATES.length]!, note: "n" }, i % 2 ? "lync" : "aol"));
  const renderMs = performance.now() - t;
  t = performance.now();
  for (const d of docs) fromPidf(d, "lync");
  const readMs = performance.now() - t;
  console.log(`PIDF: render ${Math.round((n / renderMs) * 1000).toLocaleString()}/s, read ${Math.round((n / readMs) * 1000).toLocaleString()}/s`);
}

function dialogs(): void {
  const n = 100_000;
  globalThis.gc?.();
  const before = process.memoryUsage().heapUsed;
  const store = new DialogStore(n);
  for (let i = 0; i < n; i++) {
    store.add({
      role: "notifier", callId: `c${i}@partner.test`, localTag: `l${i}`, remoteTag: `r${i}`, local: `u${i % 5000}@corp.test`, remote: `w${i}@partner.test`,
      localUri: `sip:u${i % 5000}@corp.test`, remoteUri: `sip:w${i}@partner.test`, remoteTarget: `sip:w${i}@127.0.8.9:5060;transport=tcp`, partnerDomain: "partner.test",
      localCseq: 1, remoteCseq: 1, state: "active", expiresAt: 0,
    });
  }
  globalThis.gc?.();
  const per = (process.memoryUsage().heapUsed - before) / n;
  console.log(`subscription dialogs: ~${Math.round(per)} bytes each in memory (100k dialogs${globalThis.gc ? "" : "; run with --expose-gc for a steadier figure"})`);
  store.clear();
}

async function roundTrips(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "demarc-bench-sip-"));
  const raw = configSchema.parse({
    domains: ["corp.test"],
    data_dir: join(dir, "data"),
    log: { level: "silent", format: "json" },
    tls: { dir: join(dir, "certs") },
    sip: { tcp: { enabled: true, host: ADDR, port: 0 }, trust_plain_transports: true, limits: { requests_per_second: 1_000_000, burst: 1_000_000 } },
  });
  let delivered = 0;
  const tls = tlsModule();
  const sipMod = sipModule({ ...tls, states: new PresenceStates() });
  const gw = new Gateway({ ...raw, baseDir: dir }, createLogger({ level: "silent", format: "json" }), [
    tls,
    { name: "null-internal", async start(ctx) { ctx.router.useInternal({ async deliver() { delivered++; } }); }, async stop() {} },
    sipMod,
  ]);
  await gw.start();
  const port = sipMod.edge!.ports.TCP!;
  const sock = connect({ host: ADDR, port });
  await new Promise<void>((r) => sock.once("connect", () => r()));
  const framer = new StreamFramer({ maxHeaderBytes: 16384, maxBodyBytes: 65536 });
  const sentAt = new Map<string, number>();
  const lat: number[] = [];
  const window = 200;
  let next = 0;
  let done = 0;
  const t0 = performance.now();
  await new Promise<void>((resolve) => {
    const send = () => {
      while (next < N && next - done < window) {
        sentAt.set(`bench-${next}-${process.pid}@partner.test`, performance.now());
        sock.write(message(next++));
      }
    };
    sock.on("data", (c: Buffer) => {
      for (const r of framer.push(c.toString("binary"))) {
        if (!r.ok) continue;
        const at = sentAt.get(r.message.headers["call-id"]!);
        if (at !== undefined) lat.push(performance.now() - at);
        if (++done === N) resolve();
      }
      send();
    });
    send();
  });
  const ms = performance.now() - t0;
  lat.sort((a, b) => a - b);
  const pct = (p: number) => lat[Math.min(lat.length - 1, Math.floor(lat.length * p))]!.toFixed(2);
  console.log(`inbound MESSAGE -> router -> delivery -> 200, one TCP connection, ${window} in flight:`);
  console.log(`  ${Math.round((N / ms) * 1000).toLocaleString()} msg/s; latency p50 ${pct(0.5)} ms, p99 ${pct(0.99)} ms; delivered ${delivered}/${N}`);
  sock.destroy();
  await gw.close();
}

framing();
pidf();
dialogs();
await roundTrips();
