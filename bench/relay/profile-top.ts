/**
 * Reads the .cpuprofile files `node --cpu-prof` wrote and prints where the
 * time went: self time per function (with its file), highest first.
 *
 *   npx tsx bench/relay/profile-top.ts DIR [count]
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

const [dir, countArg] = process.argv.slice(2);
if (!dir) {
  console.error("usage: profile-top DIR [count]");
  process.exit(64);
}
const self = new Map<string, number>();
let total = 0;
for (const f of readdirSync(dir).filter((f) => f.endsWith(".cpuprofile"))) {
  const prof = JSON.parse(readFileSync(join(dir, f), "utf8")) as { nodes: Node[]; samples: number[] };
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  for (const id of prof.samples) {
    const n = byId.get(id)!;
    const where = n.callFrame.url.replace(/^.*\/(node_modules|src|dist)\//, "$1/");
    const key = `${n.callFrame.functionName || "(anonymous)"}  ${where}:${n.callFrame.lineNumber + 1}`;
    self.set(key, (self.get(key) ?? 0) + 1);
    total++;
  }
}
const top = [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, Number(countArg ?? 40));
for (const [k, v] of top) console.log(`${((100 * v) / total).toFixed(1).padStart(5)}%  ${k}`);
