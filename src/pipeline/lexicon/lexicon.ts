/**
 * A lexicon: built-in detectors, whole words and regular expressions, compiled
 * into one finder that returns the spans it matched (for redaction) or just
 * whether it matched (for conditions).
 *
 * Policy regexes (rule body/patterns, lexicon patterns) run on RE2, the native
 * `re2` package: an automaton, not a backtracking engine, so every accepted
 * pattern runs in time linear in the text and can scan a whole 256 KiB body
 * in well under a millisecond. `re2-wasm` is linear too, but each call
 * crosses into WASM and copies the string, about 140 times slower per test
 * on a chat-sized message, which would dominate the pipeline's latency.
 * The price: RE2 has no backreferences or lookaround; lint refuses those with
 * the file and line. Word lists and the built-in detectors stay on V8: they
 * are built here from escaped literals and bounded repetitions (nothing for
 * a message to make them backtrack on) and need lookaround for word edges.
 */
import RE2 from "re2";
import { DETECTORS, type Span } from "./detectors.js";
import { re2Refusal } from "./re2-errors.js";

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
const POLICY_FLAGS = "giu";
const SET_FLAGS = "iu";

export function wordsRegExp(words: string[]): RegExp | undefined {
  if (!words.length) return undefined;
  const alts = [...words].sort((a, b) => b.length - a.length).map((w) => escape(w.trim()).replace(/\s+/g, "\\s+"));
  return new RegExp(`(?<![\\p{L}\\p{N}_])(?:${alts.join("|")})(?![\\p{L}\\p{N}_])`, "giu");
}

/** What keeps a policy regex from being used, in words for its author; undefined when it can be. */
export function patternProblem(pattern: string): string | undefined {
  let re: RE2;
  try {
    re = new RE2(pattern, POLICY_FLAGS);
  } catch (err) {
    return re2Refusal(pattern, (err as Error).message);
  }
  if (re.test("")) return `regular expression '${pattern}' matches empty text, so it would match every message; require at least one character`;
  return undefined;
}

/** Policy regexes are case-insensitive; throws for one patternProblem refuses (callers report those at load). */
export function policyRegExp(pattern: string): RE2 {
  const problem = patternProblem(pattern);
  if (problem) throw new Error(problem);
  return new RE2(pattern, POLICY_FLAGS);
}

/**
 * Every non-empty match over the whole text. RE2 runs in time linear in the
 * text whatever the pattern, so there is no window to miss a long match in.
 */
function spansOf(re: RegExp, text: string, out: Span[] = []): Span[] {
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

/**
 * RE2 reads UTF-8: handed a string, it converts it into a new native buffer
 * for every pattern it runs. A message's text meets several patterns in a row
 * (each rule, each lexicon), so a test converts it once and hands RE2 the
 * bytes: a yes or no needs no positions, so byte offsets do not matter there
 * (find, which reports spans, still passes the string). Node's conversion
 * replaces a lone surrogate with U+FFFD either way, so RE2 sees the same bytes.
 */
let lastText: string | undefined;
let lastUtf8 = Buffer.alloc(0);

function utf8(text: string): Buffer {
  if (text !== lastText) {
    lastUtf8 = Buffer.from(text, "utf8");
    lastText = text;
  }
  return lastUtf8;
}

export function compileFinder(src: LexiconSource): Finder {
  const words = wordsRegExp(src.words ?? []);
  const sources = src.patterns ?? [];
  const patterns = sources.map(policyRegExp);
  // One RE2.Set pass answers "does any pattern match" for all of them at once.
  const set = patterns.length > 1 ? new RE2.Set(sources, SET_FLAGS) : undefined;
  const detectors = (src.detect ?? []).map((d) => {
    const det = DETECTORS[d];
    if (!det) throw new Error(`unknown detector "${d}" (known: ${Object.keys(DETECTORS).join(", ")})`);
    return det;
  });
  const one = patterns.length === 1 ? patterns[0]! : undefined;
  const test = (text: string): boolean => {
    if (words) {
      words.lastIndex = 0;
      if (words.test(text)) return true;
    }
    if (set ? set.test(utf8(text)) : one && ((one.lastIndex = 0), one.test(utf8(text)))) return true;
    for (let i = 0; i < detectors.length; i++) if (detectors[i]!.test(text)) return true;
    return false;
  };
  // Rules that name the same lexicon test it on the same text one after another (tag, then redact): the answer is kept for that text.
  let lastText: string | undefined;
  let lastAnswer = false;
  return {
    test(text) {
      if (text !== lastText) {
        lastAnswer = test(text);
        lastText = text;
      }
      return lastAnswer;
    },
    find(text) {
      const spans: Span[] = words ? spansOf(words, text) : [];
      // With a set, only the patterns it says match are run again for their spans.
      const hits = set ? set.match(text) : patterns.map((_, i) => i);
      for (const i of hits) spansOf(patterns[i]!, text, spans);
      for (const d of detectors) spans.push(...d.find(text));
      return spans;
    },
  };
}

export function anyFinder(finders: Finder[]): Finder {
  if (finders.length === 1) return finders[0]!;
  return {
    test(t) {
      for (let i = 0; i < finders.length; i++) if (finders[i]!.test(t)) return true;
      return false;
    },
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
