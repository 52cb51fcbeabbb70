/**
 * The form of a part that rules match against, with a map back to the text
 * as written, so a redaction replaces exactly the characters that matched
 * and leaves the rest of the part as the sender wrote it.
 *
 * - Each character is NFKC-folded (full-width letters, ligatures, circled
 *   and mathematical letters become plain ones: "ｓｅｃｒｅｔ" is "secret").
 * - Characters that render as nothing (zero-width spaces and joiners, soft
 *   hyphens, bidi controls: Unicode Default_Ignorable_Code_Point) and
 *   combining marks laid over Latin text (strike-through, accents added to
 *   break a word: U+0300-036F and the other combining-diacritics blocks) are
 *   left out.
 * - In a word that mixes Latin letters with Cyrillic or Greek look-alikes
 *   ("sеcret" with a Cyrillic "е"), the look-alikes are read as the Latin
 *   letters they imitate. Words wholly in another script are left alone, so
 *   rules written in that script still match.
 */

const IGNORABLE = /^[\p{Default_Ignorable_Code_Point}\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]$/u;

/** Cyrillic and Greek letters that look like Latin ones (a subset of Unicode's confusables.txt). */
const LOOKALIKE: Record<string, string> = {
  "а": "a", "в": "b", "с": "c", "ԁ": "d", "е": "e", "һ": "h", "і": "i", "ј": "j", "к": "k", "м": "m", "н": "h", "о": "o", "р": "p",
  "ԛ": "q", "ѕ": "s", "т": "t", "ս": "u", "ѡ": "w", "х": "x", "у": "y", "ү": "y", "ӏ": "l", "ԝ": "w",
  "А": "A", "В": "B", "С": "C", "Е": "E", "Н": "H", "І": "I", "Ј": "J", "К": "K", "М": "M", "О": "O", "Р": "P", "Ѕ": "S", "Т": "T", "Х": "X", "У": "Y",
  "α": "a", "ε": "e", "ι": "i", "κ": "k", "ν": "v", "ο": "o", "ρ": "p", "τ": "t", "υ": "u", "χ": "x",
  "Α": "A", "Β": "B", "Ε": "E", "Ζ": "Z", "Η": "H", "Ι": "I", "Κ": "K", "Μ": "M", "Ν": "N", "Ο": "O", "Ρ": "P", "Τ": "T", "Υ": "Y", "Χ": "X",
};

function foldLookalikes(text: string): string {
  return text.replace(/[\p{L}\p{N}_]+/gu, (word) => (/[A-Za-z]/.test(word) ? word.replace(/[^\x00-\x7f]/g, (c) => LOOKALIKE[c] ?? c) : word));
}

export interface Matchable {
  text: string;
  /**
   * How `text` maps back to the original, as segments of four numbers: start
   * in `text`, start in the original, length in `text`, length in the
   * original (negative for one folded character, which maps as a whole; an
   * ASCII run maps unit for unit). Undefined when `text` is the original.
   */
  segments?: number[] | undefined;
}

const LOOKALIKE_TEST = new RegExp(`[${Object.keys(LOOKALIKE).join("")}]`);

export function toMatchable(original: string): Matchable {
  // Most text is ASCII, which none of the folding changes.
  if (!/[^\x00-\x7f]/.test(original)) return { text: original };
  const out: string[] = [];
  const segments: number[] = [];
  const cache = new Map<string, string>();
  const n = original.length;
  let at = 0;
  let i = 0;
  while (i < n) {
    let j = i;
    while (j < n && original.charCodeAt(j) < 0x80) j++;
    if (j > i) {
      out.push(original.slice(i, j));
      segments.push(at, i, j - i, j - i);
      at += j - i;
      i = j;
      continue;
    }
    const cp = String.fromCodePoint(original.codePointAt(i)!);
    let folded = cache.get(cp);
    if (folded === undefined) cache.set(cp, (folded = IGNORABLE.test(cp) ? "" : cp.normalize("NFKC")));
    if (folded) {
      out.push(folded);
      // A negative original length marks one folded character (mapped as a whole).
      segments.push(at, i, folded.length, -cp.length);
      at += folded.length;
    }
    i += cp.length;
  }
  const text = out.join("");
  // Look-alikes are single UTF-16 units replaced by single units: the segments stay valid.
  return { text: LOOKALIKE_TEST.test(text) ? foldLookalikes(text) : text, segments };
}

/** The original range of the unit at `x` in the matchable text. */
function locate(seg: number[], x: number): [number, number] {
  let lo = 0;
  let hi = seg.length / 4 - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (seg[mid * 4]! <= x) lo = mid;
    else hi = mid - 1;
  }
  const m = seg[lo * 4]!;
  const o = seg[lo * 4 + 1]!;
  const olen = seg[lo * 4 + 3]!;
  return olen < 0 ? [o, o - olen] : [o + (x - m), o + (x - m) + 1];
}

/** Spans found in the matchable form, as spans of the original text (the caller's redact merges overlaps). */
export function toOriginalSpans(m: Matchable, spans: readonly (readonly [number, number])[]): [number, number][] {
  const seg = m.segments;
  if (!seg) return spans.map(([s, e]) => [s, e]);
  if (!seg.length) return [];
  return spans.filter(([s, e]) => e > s && s < m.text.length).map(([s, e]) => [locate(seg, s)[0], locate(seg, Math.min(e, m.text.length) - 1)[1]]);
}

export function matchable(text: string): string {
  return toMatchable(text).text;
}
