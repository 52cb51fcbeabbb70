import { describe, expect, it } from "vitest";
import { scanSpans, scanTest, STEP_CHARS, WINDOW_CHARS } from "../../../src/pipeline/lexicon/scan.js";
import { envelope, pipelineFor, wiredRouter } from "../fixtures.js";

const KIB256 = 256 * 1024;

/** `size` characters of filler with `insert` placed at each offset. */
function body(size: number, inserts: [offset: number, text: string][], filler = "lorem ipsum dolor "): string {
  let text = filler.repeat(Math.ceil(size / filler.length)).slice(0, size);
  for (const [at, s] of inserts) text = text.slice(0, at) + s + text.slice(at + s.length);
  return text;
}

function wholeText(re: RegExp, text: string): [number, number][] {
  return [...text.matchAll(re)].map((m) => [m.index, m.index + m[0].length]);
}

describe("scanning in windows", () => {
  it("finds a match far beyond the first window at its exact span", () => {
    const text = body(KIB256, [[199_999, " EMP-123456 "]]);
    expect(scanSpans(/\bEMP-\d{6}\b/gi, text)).toEqual([[200_000, 200_010]]);
    expect(scanTest(/\bEMP-\d{6}\b/gi, text)).toBe(true);
  });

  it("finds the same matches as the whole text, including ones across every window edge", () => {
    const inserts: [number, string][] = [];
    for (let edge = STEP_CHARS; edge < 40_000; edge += STEP_CHARS) inserts.push([edge - 5, " EMP-654321 "], [edge + 40, " emp-000001 "]);
    const text = body(40_000, inserts);
    const re = /\bEMP-\d{6}\b/gi;
    const expected = wholeText(re, text);
    expect(expected).toHaveLength(inserts.length);
    expect(scanSpans(re, text)).toEqual(expected);
  });

  it("\\b and lookbehind see the text before a window", () => {
    // A word that begins just before a window edge and runs across it: "xsecret" is not the word "secret".
    const text = body(3 * STEP_CHARS, [[STEP_CHARS - 1, "xsecret"], [2 * STEP_CHARS - 1, " secret "]], "abcdefgh");
    expect(scanSpans(/\bsecret\b/gi, text)).toEqual([[2 * STEP_CHARS, 2 * STEP_CHARS + 6]]);
    expect(scanSpans(/(?<=x)secret/gi, text)).toEqual([[STEP_CHARS, STEP_CHARS + 6]]);
  });

  it("short texts are one window; a regex without the g flag is refused rather than looping", () => {
    expect(WINDOW_CHARS).toBeGreaterThan(STEP_CHARS);
    expect(scanSpans(/b+/gi, "abba cab")).toEqual([[1, 3], [7, 8]]);
    expect(() => scanSpans(/b/i, "abc")).toThrow(TypeError);
  });

  it("a 256 KiB adversarial body against .*secret completes, with the right answer either way", () => {
    const re = /.*secret/gi;
    const noise = "a".repeat(KIB256);
    expect(scanTest(re, noise)).toBe(false);
    const found = scanSpans(re, noise.slice(0, KIB256 - 6) + "secret");
    expect(found.at(-1)?.[1]).toBe(KIB256);
  });
});

describe("policy regexes and detectors in large messages, end to end", () => {
  const rules = (body: string) => `kind: policy\nrules:\n${body}`;

  it("redacts a body pattern at offset 200 000 of a 256 KiB message, and a card number near the end", async () => {
    const p = pipelineFor({
      "cards.yaml": "kind: lexicon\nid: cards\ndetect: [card]\n",
      "10.yaml": rules(
        "  - id: emp\n    when: { body: ['EMP-\\d{6}'] }\n    then: { action: redact }\n" +
          "  - id: redact-cards\n    when: { lexicons: [cards] }\n    then: { action: redact, replacement: '[card]' }\n",
      ),
    });
    const w = wiredRouter(p);
    const text = body(KIB256, [[200_000, " EMP-123456 "], [250_000, " 4111 1111 1111 1111 "]]);
    expect((await w.router.route(envelope({ body: text }))).delivered).toBe(true);
    const expected = text.slice(0, 200_001) + "[REDACTED]" + text.slice(200_011, 250_001) + "[card]" + text.slice(250_020);
    expect(w.remote[0]!.body).toBe(expected);
    expect(w.archived[0]!.decision.verdicts.map((v) => v.ruleId)).toEqual(["emp", "redact-cards"]);
  });

  it("a rule with .*secret lets a 256 KiB adversarial message through, and blocks one with the word at the end", async () => {
    const w = wiredRouter(pipelineFor({ "10.yaml": rules("  - id: no-secret\n    when: { body: ['.*secret'] }\n    then: { action: block }\n") }));
    expect((await w.router.route(envelope({ body: "a".repeat(KIB256) }))).delivered).toBe(true);
    expect((await w.router.route(envelope({ body: "a".repeat(KIB256 - 6) + "SECRET" }))).delivered).toBe(false);
  });
});
