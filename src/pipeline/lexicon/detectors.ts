/**
 * Built-in detectors for numbers a word list cannot describe: each is a
 * candidate regex plus a checksum, so "order 4111 1111 1111 1112" is not a card.
 */
export type Span = [start: number, end: number];

export interface Detector {
  description: string;
  find(text: string): Span[];
  /** Whether find would find anything; stops at the first span, and builds none. */
  test(text: string): boolean;
}

/** Luhn (ISO/IEC 7812-1 annex B) over the digits of a candidate. */
export function luhnValid(digits: string): boolean {
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return sum % 10 === 0;
}

/** ISO 13616 mod-97 check of an IBAN without spaces. */
export function ibanValid(iban: string): boolean {
  const s = (iban.slice(4) + iban.slice(0, 4)).toUpperCase();
  let rest = 0;
  for (const ch of s) {
    const v = ch >= "A" && ch <= "Z" ? ch.charCodeAt(0) - 55 : ch.charCodeAt(0) - 48;
    rest = v > 9 ? (rest * 100 + v) % 97 : (rest * 10 + v) % 97;
  }
  return rest === 1;
}

function scan(re: RegExp, text: string, accept: (match: string) => boolean): Span[] {
  const spans: Span[] = [];
  re.lastIndex = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    if (accept(m[0])) spans.push([m.index, m.index + m[0].length]);
    if (m[0].length === 0) re.lastIndex++;
  }
  return spans;
}

/** scan's first accepted match, as a yes or no. */
function found(re: RegExp, text: string, accept?: (match: string) => boolean): boolean {
  re.lastIndex = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    if (!accept || accept(m[0])) return true;
    if (m[0].length === 0) re.lastIndex++;
  }
  return false;
}

const CARD = /(?<![\d-])\d(?:[ -]?\d){12,18}(?![\d-])/g;
const US_SSN = /\b(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4}\b/g;
// HMRC: prefixes BG, GB, KN, NK, NT, TN, ZZ are never issued; D, F, I, Q, U, V never appear.
const UK_NINO = /\b(?!BG|GB|KN|NK|NT|TN|ZZ)[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z] ?\d{2} ?\d{2} ?\d{2} ?[A-D]\b/gi;
const IBAN = /\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}\b/g;

function cardValid(m: string): boolean {
  const digits = m.replace(/[ -]/g, "");
  return digits.length >= 13 && digits.length <= 19 && luhnValid(digits);
}

const ibanMatch = (m: string): boolean => ibanValid(m.replace(/ /g, ""));
const any = () => true;

export const DETECTORS: Record<string, Detector> = {
  card: {
    description: "payment card numbers (13 to 19 digits, Luhn check)",
    find: (t) => scan(CARD, t, cardValid),
    test: (t) => found(CARD, t, cardValid),
  },
  "us-ssn": { description: "US social security numbers (AAA-GG-SSSS)", find: (t) => scan(US_SSN, t, any), test: (t) => found(US_SSN, t) },
  "uk-nino": { description: "UK national insurance numbers", find: (t) => scan(UK_NINO, t, any), test: (t) => found(UK_NINO, t) },
  iban: {
    description: "international bank account numbers (IBAN, mod-97 check)",
    find: (t) => scan(IBAN, t, ibanMatch),
    test: (t) => found(IBAN, t, ibanMatch),
  },
};
