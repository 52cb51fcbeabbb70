/**
 * A finder's yes-or-no test takes shortcuts its span search does not: RE2 is
 * handed the text's UTF-8 bytes, detectors stop at the first hit, globs skip
 * a localpart without slicing it. Each shortcut must answer exactly what the
 * long way answers, whatever the text.
 */
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { compileFinder } from "../../../src/pipeline/lexicon/lexicon.js";
import { compileGlob, globMatch } from "../../../src/pipeline/patterns.js";

const units = fc.constantFrom("a", "é", "ß", "\u{1F600}", "\uD800", "\uDC00", " ", "-", "1", "4", "X", "non", "public", "ü", "\u0301", "\n");
const text = fc.array(units, { maxLength: 40 }).map((a) => a.join(""));

describe("finder test agrees with find", () => {
  const finders = {
    "one pattern": compileFinder({ patterns: ["\\bnon[- ]public\\b"] }),
    "one pattern, non-ASCII": compileFinder({ patterns: ["[éü]+ß"] }),
    "a set of patterns": compileFinder({ patterns: ["\\x{1F600}", "a\\s+é", "^X"] }),
    "words and detectors": compileFinder({ words: ["non public"], detect: ["card", "us-ssn", "uk-nino", "iban"] }),
  };
  for (const [name, f] of Object.entries(finders)) {
    it(name, () => {
      fc.assert(
        fc.property(text, (t) => {
          expect(f.test(t)).toBe(f.find(t).length > 0);
        }),
        { numRuns: 2_000 },
      );
    });
  }

  it("the same finder on many texts in a row, and the same text again", () => {
    const f = finders["one pattern, non-ASCII"];
    expect(f.test("xx éüß")).toBe(true);
    expect(f.test("xx eus")).toBe(false);
    expect(f.test("xx éüß")).toBe(true);
    expect(f.test("xx éüß".normalize("NFD"))).toBe(false);
  });
});

describe("glob matching from an offset", () => {
  it("matches the rest of the text as the sliced text would", () => {
    const u = fc.constantFrom("a", "b", ".", "@");
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom("a", "b", ".", "*"), maxLength: 8 }), fc.string({ unit: u, maxLength: 6 }), fc.string({ unit: u, maxLength: 10 }), (g, head, t) => {
        expect(globMatch(g, head + t, head.length)).toBe(globMatch(g, t));
      }),
      { numRuns: 2_000 },
    );
  });
});

describe("compiled globs", () => {
  it("answer as globMatch does, for every shape and offset", () => {
    const u = fc.constantFrom("a", "b", ".", "@");
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom("a", "b", ".", "@", "*"), maxLength: 8 }), fc.string({ unit: u, maxLength: 12 }), fc.nat(12), (g, t, from) => {
        const at = Math.min(from, t.length);
        expect(compileGlob(g)(t, at)).toBe(globMatch(g, t, at));
        expect(compileGlob(g)(t)).toBe(globMatch(g, t));
      }),
      { numRuns: 5_000 },
    );
  });
});
