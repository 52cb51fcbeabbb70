/**
 * The head of a SIP message (RFC 3261 section 7: start line and header
 * fields), read in one forward pass into the message shape of the `sip`
 * package, whose stringify, makeResponse and transaction helpers demarc uses.
 *
 * demarc reads heads itself rather than through the package's `parse`
 * because that parser is built on backtracking regexes: a status line with
 * 2,000 spaces and a bare LF took 2.3 s, "To: <" and 2,000 spaces 2.1 s, and
 * one such message blocks the whole gateway. Here every step moves forward
 * (head-fields.ts), so a head costs time linear in its length.
 *
 * Stricter than the package where the RFC is: lines end in CRLF (a bare CR or
 * LF is refused), header names are tokens, and Content-Length is digits only
 * and appears once (RFC 3261 20.14 and 7.3.1; two lengths are how request
 * smuggling starts). Header fields that may appear once (Call-ID, CSeq, From,
 * To) are refused when repeated, for the same reason.
 */
import type { SipMessage } from "sip";
import { Cursor, cseq, isWs, list, nameAddr, versionNumber, via } from "./head-fields.js";

export type HeadResult = { ok: true; message: SipMessage } | { ok: false; reason: string; message?: SipMessage | undefined };

const COMPACT: Record<string, string> = {
  i: "call-id",
  m: "contact",
  e: "content-encoding",
  l: "content-length",
  c: "content-type",
  f: "from",
  s: "subject",
  k: "supported",
  t: "to",
  v: "via",
};

const SINGLE = new Set(["content-length", "call-id", "cseq", "from", "to"]);

const NAME_CHARS: boolean[] = [];
for (const ch of "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.!%*_+`'~") NAME_CHARS[ch.charCodeAt(0)] = true;

type FieldReader = (c: Cursor, prev: unknown) => unknown;

const aor: FieldReader = (c) => nameAddr(c);
const aorList: FieldReader = (c, prev) => list(c, nameAddr, Array.isArray(prev) ? prev : []);
const READERS: Record<string, FieldReader> = {
  to: aor,
  from: aor,
  "refer-to": aor,
  contact: (c, prev) => (c.s.trim() === "*" ? "*" : aorList(c, prev)),
  route: aorList,
  "record-route": aorList,
  path: aorList,
  via: (c, prev) => list(c, via, Array.isArray(prev) ? prev : []),
  cseq: (c) => cseq(c),
};

/** Parses a head (without the blank line that ends it); `head` is a binary string. */
export function parseHead(head: string): HeadResult {
  const lines = splitLines(head);
  if (!lines) return { ok: false, reason: "Bad Request" };
  const m = startLine(lines[0]!);
  if (!m) return { ok: false, reason: "Bad Request" };
  let problem: string | undefined;
  for (let k = 1; k < lines.length; k++) {
    const line = lines[k]!;
    const colon = line.indexOf(":");
    const rawName = (colon < 0 ? "" : line.slice(0, colon)).trimEnd();
    if (!rawName || !isName(rawName)) return { ok: false, reason: "Bad Request" };
    const lower = rawName.toLowerCase();
    const name = COMPACT[lower] ?? lower;
    if (name === "__proto__") continue;
    const value = line.slice(colon + 1).trim();
    const seen = Object.hasOwn(m.headers, name);
    if (seen && SINGLE.has(name)) problem ??= `Duplicate ${rawName}`;
    if (name === "content-length") {
      // RFC 3261 20.14: 1*DIGIT, nothing else (no sign, hex, exponent or empty value).
      if (!/^[0-9]+$/.test(value)) problem ??= "Invalid Content-Length";
      else m.headers["content-length"] = Number(value);
      continue;
    }
    const reader = READERS[name];
    if (!reader) {
      m.headers[name] = seen ? `${String(m.headers[name])},${value}` : value;
      continue;
    }
    const parsed = reader(new Cursor(value), seen ? m.headers[name] : undefined);
    // As with the package, a field that cannot be read is left out; the checks after framing name what is missing.
    if (parsed !== undefined) m.headers[name] = parsed;
    else if (seen) delete m.headers[name];
  }
  return problem ? { ok: false, reason: problem, message: m } : { ok: true, message: m };
}

/** Splits at CRLF, joining folded lines (CRLF and the whitespace after it are one SP, RFC 3261 7.3.1); undefined on a bare CR or LF. */
function splitLines(head: string): string[] | undefined {
  const lines: string[] = [];
  let current = "";
  let start = 0;
  for (let i = 0; i < head.length; i++) {
    const c = head.charCodeAt(i);
    if (c !== 0x0d && c !== 0x0a) continue;
    if (c === 0x0a || head.charCodeAt(i + 1) !== 0x0a) return undefined;
    current += head.slice(start, i);
    i += 2;
    if (head.charCodeAt(i) === 0x20 || head.charCodeAt(i) === 0x09) {
      current += " ";
      while (head.charCodeAt(i) === 0x20 || head.charCodeAt(i) === 0x09) i++;
    } else {
      lines.push(current);
      current = "";
    }
    start = i;
    i--;
  }
  lines.push(current + head.slice(start));
  return lines;
}

function isName(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (!NAME_CHARS[s.charCodeAt(i)]) return false;
  return true;
}

/** Request-Line or Status-Line (RFC 3261 7.1, 7.2). */
function startLine(line: string): SipMessage | undefined {
  const c = new Cursor(line);
  if (line.startsWith("SIP/")) {
    c.i = 4;
    const version = versionNumber(c);
    if (!version || c.ws() === 0) return undefined;
    const code = c.until((ch) => ch < 0x30 || ch > 0x39);
    if (code.length !== 3 || (!c.done && !isWs(c.peek()))) return undefined;
    c.ws();
    return { version, status: Number(code), reason: line.slice(c.i), headers: {} };
  }
  const method = c.token();
  if (!method || !c.eat(" ")) return undefined;
  const uri = c.until(isWs);
  if (!uri || !c.eat(" ")) return undefined;
  if (line.slice(c.i, c.i + 4) !== "SIP/") return undefined;
  c.i += 4;
  const version = versionNumber(c);
  if (!version) return undefined;
  c.ws();
  if (!c.done) return undefined;
  return { method, uri, version, headers: {} };
}
