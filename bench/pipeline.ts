/**
 * Added latency per message through the compliance pipeline, in-process:
 * 100 rules and 3 lexicons, against an empty policy as the baseline; then the
 * worst case the regex checks leave: a 256 KiB body built to make an accepted
 * pattern backtrack, which windowed scanning keeps linear in the body length.
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
  `${name.padEnd(28)} p50 ${r.p50.toFixed(1).padStart(6)} us   p99 ${r.p99.toFixed(1).padStart(6)} us   max ${r.max.toFixed(0).padStart(6)} us   ${Math.round(r.rate).toLocaleString("en-US").padStart(9)} msg/s`;
console.log(`compliance pipeline, in-process, ${MESSAGES.toLocaleString("en-US")} messages (Node ${process.version})`);
console.log(row("empty policy (baseline)", baseline));
console.log(row(`${full.rules} rules, ${full.lexicons} lexicons`, full));

const ADVERSARIAL: [pattern: string, body: string][] = [
  [".*secret", "a".repeat(256 * 1024)],
  ["\\bQ[1-4]\\s+(results|earnings)\\b.*\\b(draft|preliminary)\\b", "Q1 results ".repeat(Math.floor((256 * 1024) / 11))],
  ["(a|b)+c", "ab".repeat(128 * 1024)],
];
console.log("worst case: one rule, a 256 KiB body crafted against its pattern (no match)");
for (const [pattern, body] of ADVERSARIAL) {
  const dir = mkdtempSync(join(tmpdir(), "demarc-bench-"));
  writeFileSync(join(dir, "rules.yaml"), `kind: policy\nrules:\n  - id: r\n    when: { body: ['${pattern}'] }\n    then: { action: block }\n`);
  const pipeline = new CompliancePipeline(loadPolicy(dir).set, { log: pino({ level: "silent" }) });
  const runs = 3;
  const s = performance.now();
  for (let i = 0; i < runs; i++) await pipeline.evaluate({ ...envelope(i), body });
  console.log(`  ${pattern.padEnd(58)} ${((performance.now() - s) / runs).toFixed(0).padStart(6)} ms per message`);
}
