/**
 * The middle of the relay path, in-process: what demarc spends per message
 * between the edge's parser and the delivery target, without sockets, TLS,
 * XML or the archive's disk. Each row is one piece (compliance with the
 * shipped policies, an ordered router lane around it, address preparation),
 * as CPU time and young-generation bytes allocated per message, so a change
 * to the hot path can be weighed without a full `bench:relay` run.
 *
 *   npm run bench:hot-path [-- --messages 100000]
 */
import { cpSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { getHeapSpaceStatistics } from "node:v8";
import { PerformanceObserver } from "node:perf_hooks";
import { pino } from "pino";
import type { Envelope } from "../src/model/envelope.js";
import { parseJid } from "../src/model/jid.js";
import type { Archiver, DeliveryTarget } from "../src/model/route.js";
import { CompliancePipeline } from "../src/pipeline/pipeline.js";
import { loadPolicy } from "../src/pipeline/policy/index.js";
import { Router } from "../src/router/router.js";

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const MESSAGES = arg("messages", 100_000);
/** Small enough that a batch fits in the young generation, so its allocation can be read off between collections. */
const BATCH = 200;

/** The shipped policies as bench:relay loads them: without the rate limits, which line rate would trip. */
function shippedWithoutLimits(): string {
  const dir = mkdtempSync(join(tmpdir(), "demarc-hot-"));
  cpSync(join(import.meta.dirname, "..", "policies"), dir, { recursive: true });
  rmSync(join(dir, "50-limits.yaml"));
  return dir;
}

/** An s2s message from a partner to a hosted user, as the XMPP edge builds it. */
function inbound(i: number): Envelope {
  return {
    id: `in-${i}`, receivedAt: Date.now(), direction: "inbound", protocol: "xmpp", kind: "message",
    from: `peer${i % 5}@partner.example/res`, to: `user${i % 5}@corp.example`, partnerDomain: "partner.example",
    type: "chat", security: { auth: "certificate", tlsVersion: "TLSv1.3" }, tags: [`stanza-id:run-${i}`], body: `run-${i}`,
  };
}

/** A c2s user's message to a partner, as the core builds it. */
function outbound(i: number): Envelope {
  return {
    id: `out-${i}`, receivedAt: Date.now(), direction: "outbound", protocol: "xmpp", kind: "message",
    from: `user${i % 5}@corp.example/desk`, to: `peer${i % 5}@partner.example`, partnerDomain: "partner.example",
    type: "chat", security: { auth: "password" }, tags: [`stanza-id:run-${i}`], body: `run-${i}`,
  };
}

let gcs = 0;
let gcMs = 0;
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    gcs++;
    gcMs += e.duration;
  }
}).observe({ entryTypes: ["gc"] });

const newSpace = () => getHeapSpaceStatistics().find((s) => s.space_name === "new_space")!.space_used_size;

interface Row {
  us: number;
  bytes: number;
  gcShare: number;
}

/** Runs `one` MESSAGES times in batches; CPU per message over all, bytes per message over batches no collection cut into. */
async function measure(one: (i: number) => unknown): Promise<Row> {
  for (let i = 0; i < 20_000; i++) await one(i);
  let clean = 0;
  let bytes = 0;
  const gc0 = gcMs;
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < MESSAGES; i += BATCH) {
    const before = gcs;
    const used = newSpace();
    for (let j = i; j < i + BATCH; j++) await one(j);
    const grew = newSpace() - used;
    if (gcs === before && grew > 0) {
      clean++;
      bytes += grew / BATCH;
    }
  }
  const cpu = process.cpuUsage(cpu0);
  const us = (cpu.user + cpu.system) / MESSAGES;
  await new Promise((r) => setTimeout(r, 50)); // let the gc observer catch up
  return { us, bytes: clean ? bytes / clean : NaN, gcShare: (gcMs - gc0) / ((cpu.user + cpu.system) / 1000) };
}

const log = pino({ level: "silent" });
const { set } = loadPolicy(shippedWithoutLimits());
const pipeline = new CompliancePipeline(set, { log });

const archiver: Archiver = { record: async () => undefined };
const sink: DeliveryTarget = { deliver: async () => undefined };
const router = new Router({ log, protocolOf: () => "xmpp" });
router.useCompliance(pipeline);
router.useArchiver(archiver);
router.useInternal(sink);
router.useRemote("xmpp", sink);
const lane = router.lane();

const jids = Array.from({ length: 50 }, (_, i) => `User${i}@Corp.Example/desk-${i % 3}`);

const rows: [string, () => Promise<Row>][] = [
  ["compliance, inbound message", () => measure((i) => pipeline.evaluate(inbound(i)))],
  ["compliance, outbound message", () => measure((i) => pipeline.evaluate(outbound(i)))],
  ["router lane + compliance, inbound", () => measure((i) => lane.route(inbound(i)))],
  ["router lane + compliance, outbound", () => measure((i) => lane.route(outbound(i)))],
  ["parseJid, 50 addresses in turn", () => measure((i) => parseJid(jids[i % jids.length]!))],
];

console.log(`hot path, in-process, ${MESSAGES.toLocaleString("en-US")} messages per row (Node ${process.version}), shipped policies without limits`);
for (const [name, run] of rows) {
  const r = await run();
  console.log(`${name.padEnd(38)} ${r.us.toFixed(2).padStart(7)} us CPU/msg  ${Math.round(r.bytes).toLocaleString("en-US").padStart(7)} B alloc/msg  gc ${(r.gcShare * 100).toFixed(1).padStart(4)}%`);
}
