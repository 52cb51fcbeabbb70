/**
 * PRECIS string preparation (RFC 8264) with the profiles XMPP addresses and
 * passwords use: UsernameCaseMapped for localparts (RFC 8265 3.3, RFC 7622
 * 3.3), OpaqueString for resourceparts (RFC 7622 3.4) and passwords (RFC 8265
 * 4.2).
 *
 * Written here because no maintained PRECIS package is available to this
 * project. It derives the RFC 8264 section 8 categories from the Unicode
 * data the JavaScript engine ships: General_Category and binary properties
 * through regular-expression property escapes, compatibility decompositions
 * through String.prototype.normalize("NFKC"). So "ﬀ" (U+FB00, a letter with a
 * compatibility decomposition: HasCompat) is refused in a username instead of
 * becoming a second account beside "ff", and the NFC and NFD spellings of
 * "zoë" prepare to the same string.
 *
 * Simplifications, each on the refusing side: code points that need a
 * contextual rule (RFC 5892 appendix A: ZWJ/ZWNJ, middle dot, Greek keraia,
 * Hebrew geresh, katakana middle dot, Arabic-Indic digits) are refused in
 * identifiers; the bidi rule (RFC 5893) is checked on scripts (Hebrew,
 * Arabic, Syriac, Thaana, NKo...) because engines expose no Bidi_Class.
 */

export class PrecisError extends Error {
  constructor(
    readonly input: string,
    reason: string,
  ) {
    super(reason);
  }
}

// RFC 5892 section 2.6 exceptions.
const EXCEPTION_PVALID = new Set([0x00df, 0x03c2, 0x06fd, 0x06fe, 0x0f0b, 0x3007]);
const EXCEPTION_DISALLOWED = new Set([0x0640, 0x07fa, 0x302e, 0x302f, 0x3031, 0x3032, 0x3033, 0x3034, 0x3035, 0x303b]);
const CONTEXTUAL = /[\u00B7\u0375\u05F3\u05F4\u30FB\u0660-\u0669\u06F0-\u06F9\u200C\u200D]/u;

const UNASSIGNED = /\p{Cn}/u;
const ASCII7 = /[\x21-\x7E]/u;
const OLD_HANGUL_JAMO = /[\u1100-\u11FF\uA960-\uA97F\uD7B0-\uD7FF]/u;
const IGNORABLE = /[\p{Default_Ignorable_Code_Point}\p{Noncharacter_Code_Point}]/u;
const CONTROL = /\p{Cc}/u;
const LETTER_DIGITS = /[\p{Ll}\p{Lu}\p{Lo}\p{Nd}\p{Lm}\p{Mn}\p{Mc}]/u;
const OTHER_LETTER_DIGITS = /[\p{Lt}\p{Nl}\p{No}\p{Me}]/u;
const SPACE = /\p{Zs}/u;
const SYMBOL = /[\p{Sm}\p{Sc}\p{Sk}\p{So}]/u;
const PUNCTUATION = /\p{P}/u;
const NON_ASCII_SPACE = /(?![ ])\p{Zs}/gu;
const RTL = /[\p{Script=Hebrew}\p{Script=Arabic}\p{Script=Syriac}\p{Script=Thaana}\p{Script=Nko}\p{Script=Samaritan}\p{Script=Mandaic}\p{Script=Adlam}]/u;
const LETTER = /\p{L}/u;

type Verdict = "pvalid" | "free" | "disallowed";

const hex = (cp: number) => `U+${cp.toString(16).toUpperCase().padStart(4, "0")}`;

/** RFC 8264 section 8: the property of one code point in the IdentifierClass; "free" is FREE_PVAL (valid in FreeformClass only). */
function category(ch: string): Verdict {
  const cp = ch.codePointAt(0)!;
  if (EXCEPTION_PVALID.has(cp)) return "pvalid";
  if (EXCEPTION_DISALLOWED.has(cp)) return "disallowed";
  if (UNASSIGNED.test(ch)) return "disallowed";
  if (ASCII7.test(ch)) return "pvalid";
  if (CONTEXTUAL.test(ch)) return "free";
  if (OLD_HANGUL_JAMO.test(ch) || IGNORABLE.test(ch) || CONTROL.test(ch)) return "disallowed";
  if (ch.normalize("NFKC") !== ch) return "free"; // HasCompat
  if (LETTER_DIGITS.test(ch)) return "pvalid";
  if (OTHER_LETTER_DIGITS.test(ch) || SPACE.test(ch) || SYMBOL.test(ch) || PUNCTUATION.test(ch)) return "free";
  return "disallowed";
}

function check(input: string, prepared: string, identifier: boolean, what: string): string {
  if (prepared.length === 0) throw new PrecisError(input, `empty ${what}`);
  for (const ch of prepared) {
    const c = category(ch);
    if (c === "disallowed" || (identifier && c === "free")) {
      throw new PrecisError(input, `${what} may not contain ${hex(ch.codePointAt(0)!)}${/\p{L}|\p{N}/u.test(ch) ? ` ("${ch}")` : ""} (RFC 8264 ${identifier ? "IdentifierClass" : "FreeformClass"})`);
    }
  }
  return prepared;
}

/** RFC 8264 9.2 width mapping: fullwidth and halfwidth forms to their decompositions. */
function widthMap(s: string): string {
  return s.replace(/[\uFF01-\uFFEE]/gu, (ch) => ch.normalize("NFKC"));
}

/** RFC 5893 section 2, on scripts: a string with right-to-left characters starts with one and holds no left-to-right letters. */
function checkBidi(input: string, s: string, what: string): void {
  if (!RTL.test(s)) return;
  const chars = [...s];
  if (!RTL.test(chars[0]!) || chars.some((ch) => LETTER.test(ch) && !RTL.test(ch))) throw new PrecisError(input, `${what} mixes right-to-left and left-to-right text (RFC 5893)`);
}

/**
 * RFC 8265 3.3 UsernameCaseMapped: width mapping, lower case, NFC, bidi
 * rule, then every code point valid in the IdentifierClass.
 */
export function usernameCaseMapped(input: string, what = "username"): string {
  const prepared = widthMap(input).toLowerCase().normalize("NFC");
  checkBidi(input, prepared, what);
  return check(input, prepared, true, what);
}

/**
 * RFC 8265 4.2 OpaqueString: non-ASCII spaces to U+0020, NFC, then every code
 * point valid in the FreeformClass. Case and width are kept.
 */
export function opaqueString(input: string, what = "string"): string {
  return check(input, input.replace(NON_ASCII_SPACE, " ").normalize("NFC"), false, what);
}

/**
 * The case and normalization an address pattern in config or policy gets, so
 * "Zoë@corp.test" typed in NFD matches the prepared address; glob characters
 * and partial names are not validated here.
 */
export function foldAddress(s: string): string {
  return widthMap(s).toLowerCase().normalize("NFC");
}
