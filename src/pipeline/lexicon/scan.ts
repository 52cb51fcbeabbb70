/**
 * Runs a policy regex over text in bounded windows. Patterns that backtrack
 * exponentially or cubically are refused at load (regex-safety.ts), but an
 * accepted pattern can still backtrack quadratically (.*x costs the square of
 * the text length when x is absent), and the edges admit bodies up to their stanza
 * limits (s2s.max_stanza_bytes, 256 KiB by default; SIP 64 KiB). So no regex
 * ever sees more than WINDOW_CHARS at once: the cost of one message grows
 * linearly with its length, and all of it is still scanned, so padding a
 * message does not hide what follows.
 *
 * Each window owns the match starts in [start, start + STEP) and also sees
 * LEAD characters before (for \b and lookbehind) and OVERLAP after, so every
 * match of up to OVERLAP characters is found as in the whole text (a match
 * running across a window start may also give an overlapping span there;
 * redaction merges overlaps). A longer match that crosses a window edge may
 * be cut short or missed.
 */
import type { Span } from "./detectors.js";

// A quadratic pattern costs about the text length times what is left of the
// window after each start (STEP / 2 + OVERLAP on average): a step of 512
// rather than 2048 cuts the worst case by a third to a half, and OVERLAP alone
// sets the longest match always found.
export const STEP_CHARS = 512;
export const OVERLAP_CHARS = 512;
export const LEAD_CHARS = 32;
/** The most text one regex execution sees. */
export const WINDOW_CHARS = LEAD_CHARS + STEP_CHARS + OVERLAP_CHARS;

function spansIn(re: RegExp, text: string, offset: number, ownFrom: number, ownTo: number, out: Span[], first: boolean): boolean {
  // Starting at ownFrom rather than 0: a match begun in the lead could run on
  // past ownFrom and hide one that starts there. \b and lookbehind still see the lead.
  re.lastIndex = ownFrom;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    if (m[0].length === 0) {
      re.lastIndex++;
      continue;
    }
    if (m.index >= ownTo) break;
    out.push([offset + m.index, offset + m.index + m[0].length]);
    if (first) return true;
  }
  return false;
}

/** Every match (a global regex) as spans of the whole text; with `first`, stops at the first. */
export function scanSpans(re: RegExp, text: string, first = false): Span[] {
  // Without g, exec ignores lastIndex and the loop would never end.
  if (!re.global) throw new TypeError(`scanSpans needs a global regex, got /${re.source}/${re.flags}`);
  const out: Span[] = [];
  if (text.length <= WINDOW_CHARS) {
    spansIn(re, text, 0, 0, text.length, out, first);
    return out;
  }
  for (let own = 0; own < text.length; own += STEP_CHARS) {
    const from = Math.max(0, own - LEAD_CHARS);
    const window = text.slice(from, own + STEP_CHARS + OVERLAP_CHARS);
    if (spansIn(re, window, from, own - from, own - from + STEP_CHARS, out, first)) return out;
  }
  return out;
}

export function scanTest(re: RegExp, text: string): boolean {
  return scanSpans(re, text, true).length > 0;
}
