/**
 * Reads the .cpuprofile files `node --cpu-prof` wrote and prints where the
 * time went: self time per function (with its file), highest first. Given
 * .heapprofile files (bench:relay --alloc-profile), prints where the bytes
 * were allocated instead, garbage included: what the collector has to clear.
 *
 *   npx tsx bench/relay/profile-top.ts DIR [count]
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

interface Node {
  id: number;
  callFrame: CallFrame;
  hitCount?: number;
}

interface HeapNode {
  callFrame: CallFrame;
  selfSize: number;
  children: HeapNode[];
}

const [dir, countArg] = process.argv.slice(2);
if (!dir) {
  console.error("usage: profile-top DIR [count]");
  process.exit(64);
}
const self = new Map<string, number>();
let total = 0;
const keyOf = (f: CallFrame) => `${f.functionName || "(anonymous)"}  ${f.url.replace(/^.*\/(node_modules|src|dist)\//, "$1/")}:${f.lineNumber + 1}`;
const add = (key: string, n: number) => {
  self.set(key, (self.get(key) ?? 0) + n);
  total += n;
};

for (const f of readdirSync(dir).filter((f) => f.endsWith(".cpuprofile"))) {
  const prof = JSON.parse(readFileSync(join(dir, f), "utf8")) as { nodes: Node[]; samples: number[] };
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  for (const id of prof.samples) add(keyOf(byId.get(id)!.callFrame), 1);
}
const heaps = readdirSync(dir).filter((f) => f.endsWith(".heapprofile"));
for (const f of heaps) {
  const walk = (n: HeapNode): void => {
    add(keyOf(n.callFrame), n.selfSize);
    n.children.forEach(walk);
  };
  walk((JSON.parse(readFileSync(join(dir, f), "utf8")) as { head: HeapNode }).head);
}
if (heaps.length > 0) console.log(`${(total / 1e6).toFixed(0)} MB allocated (sampled)`);
const top = [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, Number(countArg ?? 40));
for (const [k, v] of top) console.log(`${((100 * v) / total).toFixed(1).padStart(5)}%  ${k}`);
