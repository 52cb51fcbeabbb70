/**
 * Refuses policy regexes that can backtrack catastrophically. A policy regex
 * runs on every message, so one pattern such as (a+)+$ would let a crafted
 * message stall the gateway. Three shapes are refused at load:
 *
 * - star height above one: a repetition inside a repetition, e.g. (a+)+ or
 *   (\w+\s?)+ (decided by safe-regex2; even ? inside + counts, which refuses a
 *   few harmless patterns rather than let a harmful one through);
 * - ambiguous alternatives under a repetition: (a|aa)+ or (\w|\d)+, where two
 *   alternatives can begin with the same character, so the engine may try
 *   every way of splitting the text between them;
 * - two long repetitions in a row that can share characters, e.g. .*x.*y or
 *   \d+\s*\d+: not exponential, but cubic in the text, which the windows of
 *   scan.ts do not make cheap enough (.*x.*y takes 0.4 s per 1 KB window,
 *   minutes for a 256 KiB message).
 *
 * What is left, a single long repetition backtracking (.*secret), costs the
 * square of the text, and scanning in bounded windows (scan.ts) makes that
 * linear in the message length.
 */
import ret, { types, reconstruct, type tokenizer, type Token, type Tokens } from "ret";
import safeRegex from "safe-regex2";
import { anyTwoShare, charsOf, firstOf, firstOfToken, isLookaround, share, type Chars } from "./regex-chars.js";

// ret's index.js replaces module.exports with the tokenizer function, so under
// Node ESM the default import is that function; its .d.ts describes an exports
// object with a `default` member instead, which Node never sees.
const tokenize = ret as unknown as typeof tokenizer;

/** More repetitions than this in one pattern are refused (the safe-regex2 default). */
export const MAX_REPETITIONS = 25;

/** Why a pattern is unsafe, in words for the policy author; undefined when it is safe. */
export function regexHazard(pattern: string): string | undefined {
  const source = lookbehindAsLookahead(pattern);
  let root: Tokens;
  try {
    root = tokenize(source);
  } catch (err) {
    return `cannot be checked for catastrophic backtracking (${(err as Error).message.replace(/^Invalid regular expression: /, "")}); simplify it`;
  }
  if (!safeRegex(source, { limit: Number.MAX_SAFE_INTEGER })) {
    const nested = findNested(root, undefined);
    const shown = nested ? ` in ${reconstruct(nested)}` : "";
    return `a repetition inside a repetition${shown} can take exponential time on a crafted message; repeat only single characters or classes (e.g. (\\w+\\s)+ becomes [\\w\\s]+)`;
  }
  if (!safeRegex(source, { limit: MAX_REPETITIONS })) return `more than ${MAX_REPETITIONS} repetitions in one pattern; split it into several patterns`;
  const amb = findAmbiguous(root);
  if (amb) {
    return `alternatives in ${reconstruct(amb)} can start with the same character under a repetition, which can take exponential time; make the alternatives start differently (e.g. (ab|ac)+ becomes (a[bc])+)`;
  }
  const adj = findAdjacent(root);
  if (adj) {
    const [a, b] = adj.map((x) => reconstruct(x));
    return `${a} and ${b} can both match the same run of text, which can take seconds on a crafted message; put a character the first cannot match between them, or drop one (e.g. a.*b.*c becomes a[^b]*b.*c)`;
  }
  return undefined;
}

/**
 * ret does not parse lookbehind; a lookbehind is zero-width like a lookahead,
 * so checking it as one keeps the structure that matters for backtracking.
 */
function lookbehindAsLookahead(p: string): string {
  let out = "";
  let inClass = false;
  for (let i = 0; i < p.length; i++) {
    const c = p[i]!;
    if (c === "\\") {
      out += c + (p[i + 1] ?? "");
      i++;
    } else if (inClass) {
      if (c === "]") inClass = false;
      out += c;
    } else if (c === "[") {
      inClass = true;
      out += c;
    } else if (c === "(" && (p.startsWith("?<=", i + 1) || p.startsWith("?<!", i + 1))) {
      out += `(?${p[i + 3]}`;
      i += 3;
    } else out += c;
  }
  return out;
}

function children(t: Tokens): Token[][] {
  if (t.type === types.REPETITION) return [[t.value]];
  if (t.type === types.ROOT || t.type === types.GROUP) return [...(t.stack ? [t.stack] : []), ...(t.options ?? [])];
  return [];
}

/** The outer repetition of the first repetition-inside-a-repetition. */
function findNested(t: Tokens, outer: Token | undefined): Token | undefined {
  if (t.type === types.REPETITION) {
    if (outer) return outer;
    outer = t;
  }
  for (const seq of children(t)) {
    for (const c of seq) {
      const found = findNested(c, outer);
      if (found) return found;
    }
  }
  return undefined;
}

/** A repeated group whose alternatives can begin with the same character. */
function findAmbiguous(t: Tokens): Token | undefined {
  if (t.type === types.REPETITION && (t.max === Infinity || t.max > 1)) {
    const body = t.value;
    if (body.type === types.GROUP && body.options && anyTwoShare(body.options.map(firstOf))) return t;
  }
  for (const seq of children(t)) {
    for (const c of seq) {
      const found = findAmbiguous(c);
      if (found) return found;
    }
  }
  return undefined;
}

/** A repetition with a higher bound than this counts as long in findAdjacent. */
export const LONG_REPETITION = 32;

function isLong(t: Token): boolean {
  if (t.type === types.REPETITION) return t.max > LONG_REPETITION || isLong(t.value);
  if (t.type === types.GROUP && !isLookaround(t)) return (t.options ?? [t.stack ?? []]).some((seq) => seq.some(isLong));
  return false;
}

/** A sequence with plain groups (no alternatives, not repeated) opened up, so what is inside them is seen in order. */
function flatten(seq: Token[]): Token[] {
  return seq.flatMap((t) => (t.type === types.GROUP && !t.options && !isLookaround(t) ? flatten(t.stack ?? []) : [t]));
}

/**
 * Two long repetitions in one sequence that can both take the same run of
 * text, with nothing between them that only one side can match: the engine
 * tries every split of that run between them, from every start, so the cost
 * grows with the cube of the text (.*x.*y, \s*\s*, \d+\s*\d+), and even one
 * window of scan.ts takes a large part of a second.
 */
function findAdjacent(t: Tokens): [Token, Token] | undefined {
  for (const seq of children(t)) {
    // Long repetitions seen so far, each with the pieces after it; every piece must be one both repetitions could take.
    const open: { rep: Token; chars: Chars; between: Chars[] }[] = [];
    for (const c of flatten(seq)) {
      const first = firstOfToken(c);
      if (isLong(c)) {
        const all = charsOf(c);
        const prior = open.find((o) => share([o.chars, first]) && o.between.every((b) => share([o.chars, all, b])));
        if (prior) return [prior.rep, c];
      }
      if (!first.nullable) {
        for (let i = open.length - 1; i >= 0; i--) {
          const o = open[i]!;
          if (share([o.chars, first])) o.between.push(first);
          else open.splice(i, 1);
        }
      }
      if (isLong(c)) open.push({ rep: c, chars: charsOf(c), between: [] });
    }
    for (const c of seq) {
      const found = findAdjacent(c);
      if (found) return found;
    }
  }
  return undefined;
}
