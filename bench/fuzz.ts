/**
 * npm run fuzz -- --seconds N [--target xmpp|sip|pidf] [--seed S]
 *
 * Longer runs of the fuzz suite in test/fuzz: each target for N seconds
 * (default 60). A failing input is shrunk, printed and saved under
 * test/fuzz/found, where the test suite replays it from then on. Exit code 1
 * when something was found, 64 on bad arguments.
 */
import { parseArgs } from "node:util";
import { fuzz } from "../test/fuzz/engine.js";
import { TARGETS } from "../test/fuzz/targets.js";

let values;
try {
  ({ values } = parseArgs({ options: { seconds: { type: "string", default: "60" }, target: { type: "string" }, seed: { type: "string" } } }));
} catch (err) {
  console.error((err as Error).message);
  process.exit(64);
}
const seconds = Number(values.seconds);
const names = values.target ? [values.target] : Object.keys(TARGETS);
if (!(seconds > 0) || names.some((n) => !(n in TARGETS))) {
  console.error(`usage: npm run fuzz -- --seconds N [--target ${Object.keys(TARGETS).join("|")}] [--seed S]`);
  process.exit(64);
}
let failed = false;
for (const name of names) {
  const target = TARGETS[name as keyof typeof TARGETS];
  const r = fuzz(target, { seconds, seed: values.seed ? Number(values.seed) : undefined, save: true });
  const rate = (r.runs / (r.ms / 1000)).toFixed(0);
  console.log(`${name}: ${r.runs} inputs in ${(r.ms / 1000).toFixed(1)} s (${rate}/s), heap growth ${(r.heapGrowth / 1048576).toFixed(1)} MiB`);
  if (r.failure) {
    failed = true;
    console.log(`  FOUND: ${r.failure.message}`);
    console.log(`  input (${r.failure.c.input.length} bytes): ${JSON.stringify(r.failure.c.input.toString("binary").slice(0, 300))}`);
    if (r.failure.file) console.log(`  saved to ${r.failure.file}`);
  }
}
process.exit(failed ? 1 : 0);
