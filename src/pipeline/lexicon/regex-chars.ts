/**
 * Which characters a piece of a parsed regex (ret tokens) can start with or
 * consume, and whether such character classes can share a character. The
 * hazard checks in regex-safety.ts only need these as over-approximations: a
 * class reported as sharing a character when it does not refuses a harmless
 * pattern, never lets a harmful one through.
 */
import { types, type SetToken, type Token } from "ret";

/** A set of characters; `any` when it cannot be known (a back-reference). */
export interface Chars {
  sets: SetToken[];
  any: boolean;
}

/** What a sequence can start with, and whether it can match the empty string. */
export interface First extends Chars {
  nullable: boolean;
}

export function isLookaround(t: Token): boolean {
  return t.type === types.GROUP && Boolean(t.followedBy || t.notFollowedBy || t.lookBehind);
}

export function firstOf(seq: Token[]): First {
  const out: First = { sets: [], any: false, nullable: true };
  for (const t of seq) {
    const f = firstOfToken(t);
    out.sets.push(...f.sets);
    out.any ||= f.any;
    if (!f.nullable) {
      out.nullable = false;
      break;
    }
  }
  return out;
}

export function firstOfToken(t: Token): First {
  switch (t.type) {
    case types.CHAR:
    case types.SET:
      return { sets: [t], any: false, nullable: false };
    case types.POSITION:
      return { sets: [], any: false, nullable: true };
    case types.REFERENCE:
      return { sets: [], any: true, nullable: true };
    case types.REPETITION: {
      const f = firstOfToken(t.value);
      return { ...f, nullable: f.nullable || t.min === 0 };
    }
    case types.GROUP: {
      if (isLookaround(t)) return { sets: [], any: false, nullable: true };
      const fs = (t.options ?? [t.stack ?? []]).map(firstOf);
      return { sets: fs.flatMap((f) => f.sets), any: fs.some((f) => f.any), nullable: fs.some((f) => f.nullable) };
    }
  }
}

/** Every character a token can consume, wherever in its match. */
export function charsOf(t: Token): Chars {
  switch (t.type) {
    case types.CHAR:
    case types.SET:
      return { sets: [t], any: false };
    case types.POSITION:
      return { sets: [], any: false };
    case types.REFERENCE:
      return { sets: [], any: true };
    case types.REPETITION:
      return charsOf(t.value);
    case types.GROUP: {
      if (isLookaround(t)) return { sets: [], any: false };
      const cs = (t.options ?? [t.stack ?? []]).flat().map(charsOf);
      return { sets: cs.flatMap((c) => c.sets), any: cs.some((c) => c.any) };
    }
  }
}

/**
 * Policy regexes are case-insensitive: a character is in a set when any of
 * its case variants is, and in a negated set ([^x], .) only when none is,
 * as the engine decides it.
 */
function member(s: SetToken, variants: number[]): boolean {
  if (s.type === types.CHAR) return variants.includes(s.value);
  if (s.type === types.RANGE) return variants.some((v) => s.from <= v && v <= s.to);
  return s.set.some((x) => member(x, variants)) !== s.not;
}

function contains(f: Chars, c: number): boolean {
  if (f.any) return true;
  const ch = String.fromCharCode(c);
  const variants = [c, ch.toLowerCase().charCodeAt(0), ch.toUpperCase().charCodeAt(0)];
  return f.sets.some((s) => member(s, variants));
}

/** Whether one character belongs to every class given. */
export function share(classes: Chars[]): boolean {
  for (const c of candidates(classes)) if (classes.every((f) => contains(f, c))) return true;
  return false;
}

/** Whether any two of the classes share a character. */
export function anyTwoShare(classes: Chars[]): boolean {
  for (let i = 0; i < classes.length; i++) {
    for (let j = i + 1; j < classes.length; j++) if (share([classes[i]!, classes[j]!])) return true;
  }
  return false;
}

/**
 * Only the characters the classes name need trying: a literal or a range
 * (its first 1024), or for negated sets (. \W [^x]) a sample of what they
 * leave in; with `any` on every side, any character will do.
 */
function candidates(classes: Chars[]): Set<number> {
  const out = new Set<number>();
  const add = (s: SetToken) => {
    if (s.type === types.CHAR) out.add(s.value);
    else if (s.type === types.RANGE) for (let c = s.from; c <= Math.min(s.to, s.from + 0x3ff); c++) out.add(c);
    else {
      s.set.forEach(add);
      if (s.not) for (let c = 0; c < 0x250; c++) out.add(c);
    }
  };
  for (const f of classes) f.sets.forEach(add);
  if (!out.size) out.add(0x61);
  return out;
}
