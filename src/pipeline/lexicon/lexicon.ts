/**
 * A lexicon: built-in detectors, whole words and regular expressions, compiled
 * into one finder that returns the spans it matched (for redaction) or just
 * whether it matched (for conditions).
 */
import { DETECTORS, type Span } from "./detectors.js";
import { regexHazard } from "./regex-safety.js";
import { scanSpans, scanTest } from "./scan.js";

export type { Span };

export interface LexiconSource {
  detect?: string[] | undefined;
  words?: string[] | undefined;
  patterns?: string[] | undefined;
}

export interface Finder {
  test(text: string): boolean;
  find(text: string): Span[];
}

function escape(word: string): string {
  return word.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** Words match whole words, case-insensitively; a phrase's spaces match any whitespace. */
export function wordsRegExp(words: string[]): RegExp | undefined {
  if (!words.length) return undefined;
  const alts = [...words].sort((a, b) => b.length - a.length).map((w) => escape(w.trim()).replace(/\s+/g, "\\s+"));
  return new RegExp(`(?<![\\p{L}\\p{N}_])(?:${alts.join("|")})(?![\\p{L}\\p{N}_])`, "giu");
}

/** What keeps a policy regex from being used, in words for its author; undefined when it can be. */
export function patternProblem(pattern: string): string | undefined {
  try {
    new RegExp(pattern, "gi");
  } catch (err) {
    return `bad regular expression: ${(err as Error).message}`;
  }
  const hazard = regexHazard(pattern);
  return hazard && `unsafe regular expression '${pattern}': ${hazard}`;
}

/** Policy regexes are case-insensitive; throws for one patternProblem refuses (callers report those at load). */
export function policyRegExp(pattern: string): RegExp {
  const problem = patternProblem(pattern);
  if (problem) throw new Error(problem);
  return new RegExp(pattern, "gi");
}

/**
 * Whole-text matching, for the regexes built here from word lists: escaped
 * literals cannot backtrack badly, and unlike in windows a phrase padded with
 * whitespace across a window edge is still found.
 */
function spansOf(re: RegExp, text: string): Span[] {
  const out: Span[] = [];
  re.lastIndex = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    if (m[0].length === 0) {
      re.lastIndex++;
      continue;
    }
    out.push([m.index, m.index + m[0].length]);
  }
  return out;
}

export function compileFinder(src: LexiconSource): Finder {
  const words = wordsRegExp(src.words ?? []);
  const patterns = (src.patterns ?? []).map(policyRegExp);
  const detectors = (src.detect ?? []).map((d) => {
    const det = DETECTORS[d];
    if (!det) throw new Error(`unknown detector "${d}" (known: ${Object.keys(DETECTORS).join(", ")})`);
    return det;
  });
  return {
    test(text) {
      if (words) {
        words.lastIndex = 0;
        if (words.test(text)) return true;
      }
      if (patterns.some((re) => scanTest(re, text))) return true;
      return detectors.some((d) => d.find(text).length > 0);
    },
    find(text) {
      const spans: Span[] = words ? spansOf(words, text) : [];
      for (const re of patterns) spans.push(...scanSpans(re, text));
      for (const d of detectors) spans.push(...d.find(text));
      return spans;
    },
  };
}

export function anyFinder(finders: Finder[]): Finder {
  return {
    test: (t) => finders.some((f) => f.test(t)),
    find: (t) => finders.flatMap((f) => f.find(t)),
  };
}

/** Replaces the spans (overlaps merged) with the replacement text. */
export function redact(text: string, spans: Span[], replacement: string): { text: string; count: number } {
  if (!spans.length) return { text, count: 0 };
  const sorted = [...spans].sort((a, b) => a[0] - b[0]);
  const merged: Span[] = [];
  for (const s of sorted) {
    const last = merged[merged.length - 1];
    if (last && s[0] <= last[1]) last[1] = Math.max(last[1], s[1]);
    else merged.push([s[0], s[1]]);
  }
  let out = "";
  let at = 0;
  for (const [start, end] of merged) {
    out += text.slice(at, start) + replacement;
    at = end;
  }
  return { text: out + text.slice(at), count: merged.length };
}
