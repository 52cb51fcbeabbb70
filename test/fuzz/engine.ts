/**
 * The fuzz engine: property-based with fast-check. Inputs are seeds from
 * test/fuzz/corpus mutated (tokens of the grammar inserted, bytes inserted,
 * flipped or deleted, a slice repeated up to 64 KiB to expose super-linear
 * work, slices spliced from other seeds), then fed whole and in random chunks.
 *
 * Oracles, for every input:
 * - nothing is thrown outside the parser's documented error path;
 * - every chunking gives the same outcome as one write (split invariance);
 * - each parse stays under a time bound (re-measured before it counts, so a
 *   GC pause on a busy machine is not a finding);
 * - what the parser holds between chunks stays under its bound, and the heap
 *   does not grow over the run.
 */
import { createHash } from "node:crypto";
import { readdirSync, readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { runInNewContext } from "node:vm";
import { setFlagsFromString } from "node:v8";
import fc from "fast-check";
import type { Target } from "./targets.js";
import { cpuMs } from "../helpers/timing.js";

export const FUZZ_DIR = new URL(".", import.meta.url).pathname;
export const MAX_INPUT = 65_536;
/** Per parse of an input of up to 64 KiB, after re-measuring; the exact 10 ms checks live in the regression tests. */
export const TIME_LIMIT_MS = 50;
const HEAP_GROWTH_LIMIT = 64 * 1024 * 1024;

export interface Case {
  input: Buffer;
  cuts: number[];
}

export function seeds(target: Target): Buffer[] {
  const dir = join(FUZZ_DIR, "corpus", target.name);
  return readdirSync(dir)
    .sort()
    .map((f) => readFileSync(join(dir, f)));
}

/** Regression fixtures: inputs a fuzz run once failed on. */
export function found(target: Target): { file: string; c: Case }[] {
  const dir = join(FUZZ_DIR, "found");
  return readdirSync(dir)
    .filter((f) => f.startsWith(`${target.name}-`) && f.endsWith(".json"))
    .sort()
    .map((file) => {
      const j = JSON.parse(readFileSync(join(dir, file), "utf8")) as { input: string; cuts: number[] };
      return { file, c: { input: Buffer.from(j.input, "base64"), cuts: j.cuts } };
    });
}

export function saveFound(target: Target, c: Case, why: string): string {
  const dir = join(FUZZ_DIR, "found");
  mkdirSync(dir, { recursive: true });
  const id = createHash("sha256").update(c.input).update(JSON.stringify(c.cuts)).digest("hex").slice(0, 12);
  const file = join(dir, `${target.name}-${id}.json`);
  writeFileSync(file, `${JSON.stringify({ target: target.name, why, input: c.input.toString("base64"), cuts: c.cuts }, null, 1)}\n`);
  return file;
}

type Mutation =
  | { k: "token"; at: number; pick: number }
  | { k: "bytes"; at: number; bytes: Uint8Array }
  | { k: "delete"; at: number; len: number }
  | { k: "repeat"; at: number; len: number; times: number }
  | { k: "splice"; at: number; other: number; from: number; len: number }
  | { k: "flip"; at: number; bit: number };

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ k: fc.constant("token" as const), at: fc.nat(), pick: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant("bytes" as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant("delete" as const), at: fc.nat(), len: fc.integer({ min: 1, max: 64 }) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant("repeat" as const), at: fc.nat(), len: fc.integer({ min: 1, max: 16 }), times: fc.integer({ min: 2, max: 8192 }) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant("splice" as const), at: fc.nat(), other: fc.nat(), from: fc.nat(), len: fc.nat(512) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant("flip" as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }) },
);

function mutate(input: Buffer, m: Mutation, target: Target, corpus: Buffer[]): Buffer {
  const at = input.length === 0 ? 0 : m.at % (input.length + 1);
  const ins = (b: Buffer) => Buffer.concat([input.subarray(0, at), b, input.subarray(at)]);
  switch (m.k) {
    case "token":
      return ins(Buffer.from(target.tokens[m.pick % target.tokens.length]!, "binary"));
    case "bytes":
      return ins(Buffer.from(m.bytes));
    case "delete":
      return Buffer.concat([input.subarray(0, at), input.subarray(at + m.len)]);
    case "repeat": {
      const piece = input.subarray(at, at + m.len);
      const times = Math.min(m.times, Math.floor(MAX_INPUT / Math.max(1, piece.length)));
      return ins(Buffer.alloc(piece.length * times, piece.length ? piece : " "));
    }
    case "splice": {
      const other = corpus[m.other % corpus.length]!;
      const from = other.length ? m.from % other.length : 0;
      return ins(other.subarray(from, from + m.len));
    }
    case "flip": {
      if (input.length === 0) return input;
      const out = Buffer.from(input);
      const i = at % out.length;
      out[i] = out[i]! ^ (1 << m.bit);
      return out;
    }
  }
}

export function caseArb(target: Target): fc.Arbitrary<Case> {
  const corpus = seeds(target);
  return fc
    .record({
      seed: fc.nat(),
      mutations: fc.array(mutationArb, { maxLength: 6 }),
      cuts: fc.array(fc.nat(), { maxLength: 16 }),
      every: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 64 })),
    })
    .map(({ seed, mutations, cuts, every }) => {
      let input = corpus[seed % corpus.length]!;
      for (const m of mutations) input = mutate(input, m, target, corpus);
      if (input.length > MAX_INPUT) input = input.subarray(0, MAX_INPUT);
      const n = input.length;
      // Small steps (down to byte by byte) for small inputs; scattered cuts otherwise, to keep runs quick.
      const step = every > 0 && n / every <= 4096 ? every : 0;
      const at = step ? Array.from({ length: Math.floor(n / step) }, (_, k) => (k + 1) * step) : cuts.map((c) => (n ? c % n : 0));
      return { input, cuts: at };
    });
}

/** CPU time, not wall time: a busy machine delays a parse without making it slower (test/helpers/timing.ts). */
function timed<T>(f: () => T): { value: T; ms: number } {
  let value!: T;
  const ms = cpuMs(() => (value = f()));
  return { value, ms };
}

/** Checks every oracle on one case; throws an Error naming the one that failed. */
export function checkCase(target: Target, c: Case): void {
  const whole = timed(() => target.run(c.input, []));
  const split = timed(() => target.run(c.input, c.cuts));
  const a = JSON.stringify(whole.value.events);
  const b = JSON.stringify(split.value.events);
  if (a !== b) throw new Error(`split invariance: one write gave ${a.slice(0, 400)}, chunks gave ${b.slice(0, 400)}`);
  if (split.value.held > target.maxHeld) throw new Error(`bounded memory: held ${split.value.held} > ${target.maxHeld}`);
  for (const [label, ms, cuts] of [["one write", whole.ms, []], ["chunks", split.ms, c.cuts]] as const) {
    if (ms <= TIME_LIMIT_MS) continue;
    // Re-measure: only a parse that is slow every time is a finding.
    const best = Math.min(...[0, 1, 2].map(() => timed(() => target.run(c.input, [...cuts])).ms));
    if (best > TIME_LIMIT_MS) throw new Error(`time bound: ${label} took ${best.toFixed(1)} ms for ${c.input.length} bytes (> ${TIME_LIMIT_MS} ms)`);
  }
}

let gcFn: (() => void) | undefined;
function gc(): void {
  if (!gcFn) {
    setFlagsFromString("--expose-gc");
    gcFn = runInNewContext("gc") as () => void;
  }
  gcFn();
}

export interface FuzzReport {
  target: string;
  runs: number;
  ms: number;
  heapGrowth: number;
  failure?: { message: string; file?: string | undefined; c: Case };
}

/** Runs one target for a time budget; a failing input is shrunk and, if save is set, written to test/fuzz/found. */
export function fuzz(target: Target, opts: { seconds: number; seed?: number | undefined; save?: boolean }): FuzzReport {
  gc();
  const heapBefore = process.memoryUsage().heapUsed;
  const started = performance.now();
  const details = fc.check(
    fc.property(caseArb(target), (c) => checkCase(target, c)),
    { numRuns: Number.MAX_SAFE_INTEGER, interruptAfterTimeLimit: opts.seconds * 1000, markInterruptAsFailure: false, seed: opts.seed },
  );
  const ms = performance.now() - started;
  gc();
  const heapGrowth = process.memoryUsage().heapUsed - heapBefore;
  const report: FuzzReport = { target: target.name, runs: details.numRuns, ms, heapGrowth };
  if (details.failed && details.counterexample) {
    const [c] = details.counterexample;
    const message = details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance);
    report.failure = { message, c, file: opts.save ? saveFound(target, c, message) : undefined };
  } else if (heapGrowth > HEAP_GROWTH_LIMIT) {
    report.failure = { message: `bounded heap: grew ${heapGrowth} bytes over the run`, c: { input: Buffer.alloc(0), cuts: [] } };
  }
  return report;
}
