/**
 * The fuzz suite inside `npm test`: every found input is replayed, then each
 * target is fuzzed for a short budget (FUZZ_SECONDS per target, default 18;
 * FUZZ_SEED fixes the run). `npm run fuzz -- --seconds N` runs longer and
 * saves what it finds to test/fuzz/found. See README "Fuzzing the parsers".
 */
import { describe, expect, it } from "vitest";
import { checkCase, found, fuzz, seeds } from "./engine.js";
import { TARGETS } from "./targets.js";

const SECONDS = Number(process.env.FUZZ_SECONDS ?? 18);
const SEED = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : undefined;

describe.each(Object.values(TARGETS))("fuzz target $name", (target) => {
  it("passes every oracle on its seed corpus, whole and byte by byte", () => {
    const corpus = seeds(target);
    expect(corpus.length).toBeGreaterThanOrEqual(3);
    for (const input of corpus) checkCase(target, { input, cuts: Array.from({ length: input.length }, (_, k) => k) });
  });

  it("the seed corpus parses without errors", () => {
    for (const input of seeds(target)) {
      const out = target.run(input, []);
      expect(out.events.filter((e) => e.startsWith("error")), input.toString("utf8", 0, 80)).toEqual([]);
    }
  });

  it("replays every input a fuzz run once failed on", () => {
    for (const { file, c } of found(target)) {
      expect(() => checkCase(target, c), file).not.toThrow();
    }
  });

  it(
    `finds nothing in ${SECONDS} s of mutated, randomly split input`,
    () => {
      const report = fuzz(target, { seconds: SECONDS, seed: SEED });
      expect(report.failure?.message).toBeUndefined();
      expect(report.runs).toBeGreaterThan(0);
    },
    SECONDS * 1000 + 60_000,
  );
});
