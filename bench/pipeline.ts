/**
 * Added latency per message through the compliance pipeline, in-process:
 * 100 rules and 3 lexicons (regexes on RE2), against an empty policy as the
 * baseline; then the worst case over the shipped and some crafted patterns on
 * 256 KiB bodies built to make a backtracking engine stall, on RE2 and on the
 * windowed V8 engine it replaced, measured side by side.
 * Run: npm run bench:pipeline
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import type { Envelope } from "../src/model/envelope.js";
import { CompliancePipeline } from "../src/pipeline/pipeline.js";
import { loadPolicy } from "../src/pipeline/policy/index.js";

const MESSAGES = 50_000;
const WARMUP = 5_000;

function policyFolder(rules: number): string {
  const dir = mkdtempSync(join(tmpdir(), "demarc-bench-"));
  if (rules === 0) return dir;
  writeFileSync(join(dir, "lex-cards.yaml"), "kind: lexicon\nid: cards\ndetect: [card]\n");
  writeFileSync(join(dir, "lex-ids.yaml"), "kind: lexicon\nid: ids\ndetect: [us-ssn, uk-nino, iban]\n");
  const words = Array.from({ length: 200 }, (_, i) => `"codeword${i}"`).join(", ");
  writeFileSync(join(dir, "lex-words.yaml"), `kind: lexicon\nid: words\nwords: [${words}]\npatterns: ['\\bproj-\\d{4}\\b']\n`);
  const out = ["kind: policy", "groups:", "  research: ['*@research.corp.example']", "  trading: ['*@trading.corp.example']", "walls:", "  - id: wall", "    from: group:research", "    to: group:trading", "rules:"];
  for (let i = 0; i < rules; i++) {
    const kind = i % 5;
    out.push(`  - id: r${i}`);
    if (kind === 0) out.push(`    when: { direction: outbound, words: ["secret${i}", "hidden${i}"] }`, "    then: { action: block }");
    else if (kind === 1) out.push(`    when: { partners: ["p${i}.example", "*.p${i}.example"], body: ['\\bdeal\\s+${i}\\b'] }`, "    then: { action: quarantine }");
    else if (kind === 2) out.push(`    when: { from: ['*@dept${i}.corp.example'] }`, `    then: { action: tag, tags: [t${i}] }`);
    else if (kind === 3) out.push(`    when: { lexicons: [${["cards", "ids", "words"][i % 3]}] }`, "    then: { action: redact }");
    else out.push(`    when: { direction: inbound, partners: ["*.x${i}.example"] }`, `    then: { action: disclaimer, text: "d${i}" }`);
  }
  writeFileSync(join(dir, "rules.yaml"), out.join("\n") + "\n");
  return dir;
}

const bodies = [
  "Hi Bob, are we still on for lunch tomorrow? Let me know what time suits you.",
  "Please charge 4111 1111 1111 1111 and send the receipt to accounts.",
  "The quarterly numbers look fine; nothing unusual to report this week at all.",
  "Status of proj-1234 is green, see the tracker for the details and owners.",
];

function envelope(i: number): Envelope {
  return {
    id: `b${i}`, receivedAt: Date.now(), direction: "outbound", protocol: "xmpp", kind: "message",
    from: `user${i % 500}@corp.example/desk`, to: `peer${i % 50}@partner${i % 7}.example`, partnerDomain: `partner${i % 7}.example`,
    body: bodies[i % bodies.length],
  };
}

async function measure(rules: number) {
  const { set } = loadPolicy(policyFolder(rules));
  const pipeline = new CompliancePipeline(set, { log: pino({ level: "silent" }) });
  for (let i = 0; i < WARMUP; i++) await pipeline.evaluate(envelope(i));
  const samples = new Float64Array(MESSAGES);
  const t0 = performance.now();
  for (let i = 0; i < MESSAGES; i++) {
    const s = performance.now();
    await pipeline.evaluate(envelope(i));
    samples[i] = performance.now() - s;
  }
  const total = performance.now() - t0;
  samples.sort();
  const q = (p: number) => samples[Math.min(MESSAGES - 1, Math.floor(p * MESSAGES))]! * 1000;
  return { rules: set.rules.length, lexicons: set.lexicons.size, p50: q(0.5), p99: q(0.99), max: q(1), rate: (MESSAGES / total) * 1000 };
}

const baseline = await measure(0);
const full = await measure(100);
const row = (name: string, r: typeof full) =>
  `${name.padEnd(32)} p50 ${r.p50.toFixed(1).padStart(6)} us   p99 ${r.p99.toFixed(1).padStart(6)} us   max ${r.max.toFixed(0).padStart(6)} us   ${Math.round(r.rate).toLocaleString("en-US").padStart(9)} msg/s`;
console.log(`compliance pipeline, in-process, ${MESSAGES.toLocaleString("en-US")} messages (Node ${process.version})`);
console.log(row("empty policy (baseline)", baseline));
console.log(row(`${full.rules} rules, ${full.lexicons} lexicons, RE2`, full));

// The worst case: every regex shipped in policies/ plus crafted ones, each on
// 256 KiB bodies built to make a backtracking engine work hardest (no match).
const KIB256 = 256 * 1024;
const shipped = loadPolicy(join(import.meta.dirname, "..", "policies"));
const shippedPatterns = [
  ...shipped.set.ruleDefs.flatMap((r) => [...(r.def.when.body ?? []), ...(r.def.then.action === "redact" ? (r.def.then.patterns ?? []) : [])]),
  ...[...shipped.set.lexicons.values()].flatMap((l) => l.def.patterns ?? []),
];
const CRAFTED = ["(a|b)+c", "[a-z]+[0-9]{9}x", ".*secret"];
const BODIES: [name: string, text: string][] = [
  ["a*", "a".repeat(KIB256)],
  ["ab*", "ab".repeat(KIB256 / 2)],
  ["a1*", "a12345678".repeat(Math.floor(KIB256 / 9))],
  ["Q1 results*", "Q1 results ".repeat(Math.floor(KIB256 / 11))],
  ["non-*", "non-".repeat(KIB256 / 4)],
];

/**
 * The engine this replaced, kept here only to measure it: V8's backtracking
 * RegExp run over the text in windows of 512 characters plus 512 overlap and
 * a 32-character lead (what src/pipeline/lexicon/scan.ts did).
 */
function oldEngineTest(re: RegExp, text: string): boolean {
  for (let own = 0; own < text.length; own += 512) {
    const from = Math.max(0, own - 32);
    const window = text.slice(from, own + 1024);
    re.lastIndex = own - from;
    for (let m = re.exec(window); m; m = re.exec(window)) {
      if (m.index >= own - from + 512) break;
      if (m[0].length) return true;
      re.lastIndex++;
    }
  }
  return false;
}

async function worstOnRe2(pattern: string): Promise<{ ms: number; body: string }> {
  const dir = mkdtempSync(join(tmpdir(), "demarc-bench-"));
  writeFileSync(join(dir, "rules.yaml"), `kind: policy\nrules:\n  - id: r\n    when: { body: ['${pattern.replaceAll("'", "''")}'] }\n    then: { action: block }\n`);
  const pipeline = new CompliancePipeline(loadPolicy(dir).set, { log: pino({ level: "silent" }) });
  let worst = { ms: 0, body: "" };
  for (const [name, body] of BODIES) {
    await pipeline.evaluate({ ...envelope(0), body }); // warm
    const runs = 5;
    let max = 0;
    for (let i = 0; i < runs; i++) {
      const s = performance.now();
      await pipeline.evaluate({ ...envelope(i), body });
      max = Math.max(max, performance.now() - s);
    }
    if (max > worst.ms) worst = { ms: max, body: name };
  }
  return worst;
}

function worstOnOldEngine(pattern: string): number {
  const re = new RegExp(pattern, "gi");
  let worst = 0;
  for (const [, body] of BODIES) {
    const s = performance.now();
    oldEngineTest(re, body);
    worst = Math.max(worst, performance.now() - s);
  }
  return worst;
}

console.log(`worst case: one rule per pattern, 256 KiB bodies crafted against it (${BODIES.map(([n]) => n).join(", ")}), whole pipeline`);
console.log(`  ${"pattern".padEnd(66)} ${"RE2".padStart(8)}   ${"old: V8 in windows".padStart(18)}`);
let overall = 0;
for (const pattern of [...new Set([...shippedPatterns, ...CRAFTED])]) {
  const now = await worstOnRe2(pattern);
  const old = worstOnOldEngine(pattern);
  overall = Math.max(overall, now.ms);
  const label = `${shippedPatterns.includes(pattern) ? "shipped" : "crafted"} ${pattern}`;
  console.log(`  ${label.padEnd(66)} ${now.ms.toFixed(2).padStart(6)} ms   ${old.toFixed(0).padStart(15)} ms`);
}
console.log(`worst over all patterns on RE2: ${overall.toFixed(2)} ms per message (target <= 10 ms): ${overall <= 10 ? "ok" : "OVER"}`);
