/**
 * Linear readers for the structured SIP header fields demarc reads (RFC 3261
 * section 25.1: name-addr / addr-spec with parameters, Via, CSeq), producing
 * the shapes the `sip` package's parser produces, so its stringify and
 * makeResponse take them unchanged.
 *
 * Why not the package's own readers: they are backtracking regexes that are
 * cubic on whitespace runs ("To: <" + 2,000 spaces takes seconds) and rescan
 * the rest of the field for every failed match (applyRegex with /g), so one
 * message of a few KiB can block the event loop. Each reader here moves a
 * cursor forward only; every character is looked at a bounded number of times.
 */
import type { CSeq, NameAddr, Via } from "sip";

// RFC 3261 25.1 token characters.
const TOKEN: boolean[] = [];
for (const ch of "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.!%*_+`'~") TOKEN[ch.charCodeAt(0)] = true;
// A gen-value may also be a host: IPv6 references carry ':' and brackets.
const VALUE: boolean[] = [...TOKEN];
for (const ch of ":[]") VALUE[ch.charCodeAt(0)] = true;

export class Cursor {
  i = 0;
  constructor(readonly s: string) {}

  get done(): boolean {
    return this.i >= this.s.length;
  }

  peek(): number {
    return this.s.charCodeAt(this.i);
  }

  /** Skips LWS (folds were already turned into spaces). */
  ws(): number {
    const start = this.i;
    while (this.i < this.s.length && isWs(this.s.charCodeAt(this.i))) this.i++;
    return this.i - start;
  }

  eat(ch: string): boolean {
    if (this.s[this.i] !== ch) return false;
    this.i++;
    return true;
  }

  run(set: boolean[]): string {
    const start = this.i;
    while (this.i < this.s.length && set[this.s.charCodeAt(this.i)]) this.i++;
    return this.s.slice(start, this.i);
  }

  token(): string {
    return this.run(TOKEN);
  }

  /** Up to (not including) the first character for which stop is true. */
  until(stop: (c: number) => boolean): string {
    const start = this.i;
    while (this.i < this.s.length && !stop(this.s.charCodeAt(this.i))) this.i++;
    return this.s.slice(start, this.i);
  }

  /** A quoted-string, quotes included (as the package keeps them); undefined when it never closes. */
  quoted(): string | undefined {
    const start = this.i;
    if (!this.eat('"')) return undefined;
    while (this.i < this.s.length) {
      const c = this.s.charCodeAt(this.i++);
      if (c === 0x5c /* \ */) this.i++;
      else if (c === 0x22) return this.s.slice(start, this.i);
    }
    this.i = start;
    return undefined;
  }
}

export function isWs(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0d || c === 0x0a;
}

/** `*( SEMI generic-param )`; stops quietly at anything else, as the package does. */
export function params(c: Cursor, into: Record<string, string | null> = {}): Record<string, string | null> {
  for (;;) {
    const save = c.i;
    c.ws();
    if (!c.eat(";")) return ((c.i = save), into);
    c.ws();
    const name = c.token();
    if (!name) return ((c.i = save), into);
    const afterName = c.i;
    c.ws();
    let value: string | null = null;
    if (c.eat("=")) {
      c.ws();
      value = (c.peek() === 0x22 ? c.quoted() : c.run(VALUE)) || null;
      if (value === null) c.i = afterName;
    } else {
      c.i = afterName;
    }
    const key = name.toLowerCase();
    // Not a parameter any SIP extension defines; assigning it would replace the object's prototype.
    if (key !== "__proto__") into[key] = value;
  }
}

/** name-addr or addr-spec, then parameters (To, From, Contact, Route, Refer-To). */
export function nameAddr(c: Cursor): NameAddr | undefined {
  c.ws();
  let name: string | undefined;
  if (c.peek() === 0x22) {
    name = c.quoted();
    if (name === undefined) return undefined;
    c.ws();
    if (c.peek() !== 0x3c) return undefined;
  } else {
    // A display name of tokens is known only when '<' follows; else this was an addr-spec.
    const start = c.i;
    let end = start;
    while (c.token()) {
      end = c.i;
      c.ws();
    }
    if (c.peek() === 0x3c) {
      if (end > start) name = c.s.slice(start, end);
    } else {
      c.i = start;
    }
  }
  let uri: string;
  if (c.eat("<")) {
    uri = c.until((ch) => ch === 0x3e).trim();
    if (!c.eat(">")) return undefined;
  } else {
    // RFC 3261 20: an addr-spec with ',', ';' or '?' must be in angle brackets, so those end it.
    uri = c.until((ch) => isWs(ch) || ch === 0x3b || ch === 0x2c);
  }
  if (!uri) return undefined;
  const out: NameAddr = { name, uri, params: params(c) };
  return out;
}

/** `sent-protocol LWS sent-by *( SEMI via-params )` (RFC 3261 20.42). */
export function via(c: Cursor): Via | undefined {
  c.ws();
  if (c.s.slice(c.i, c.i + 3) !== "SIP") return undefined;
  c.i += 3;
  c.ws();
  if (!c.eat("/")) return undefined;
  c.ws();
  const version = versionNumber(c);
  if (!version) return undefined;
  c.ws();
  if (!c.eat("/")) return undefined;
  c.ws();
  const protocol = c.until((ch) => isWs(ch) || ch === 0x3b || ch === 0x2c);
  if (!protocol || c.ws() === 0) return undefined;
  let host: string;
  if (c.peek() === 0x5b /* [ */) {
    host = c.until((ch) => ch === 0x5d);
    if (!c.eat("]")) return undefined;
    host += "]";
  } else {
    host = c.until((ch) => isWs(ch) || ch === 0x3b || ch === 0x3a || ch === 0x2c);
  }
  if (!host) return undefined;
  let port: number | undefined;
  const save = c.i;
  c.ws();
  if (c.eat(":")) {
    c.ws();
    const digits = c.until((ch) => ch < 0x30 || ch > 0x39);
    if (digits) port = Number(digits);
    else c.i = save;
  } else {
    c.i = save;
  }
  return { version, protocol, host, port, params: params(c) };
}

/** `1*DIGIT "." 1*DIGIT`, or "" when absent. */
export function versionNumber(c: Cursor): string {
  const start = c.i;
  const digit = (ch: number) => ch < 0x30 || ch > 0x39;
  if (!c.until(digit) || !c.eat(".") || !c.until(digit)) {
    c.i = start;
    return "";
  }
  return c.s.slice(start, c.i);
}

/** `1*DIGIT LWS Method` (RFC 3261 20.16). */
export function cseq(c: Cursor): CSeq | undefined {
  c.ws();
  const digits = c.until((ch) => ch < 0x30 || ch > 0x39);
  if (!digits || c.ws() === 0) return undefined;
  const method = c.token();
  if (!method) return undefined;
  return { seq: Number(digits), method };
}

/** A comma-separated list of one kind of element (RFC 3261 7.3.1); undefined when an element cannot be read. */
export function list<T>(c: Cursor, one: (c: Cursor) => T | undefined, into: T[] = []): T[] | undefined {
  for (;;) {
    const el = one(c);
    if (el === undefined) return undefined;
    into.push(el);
    c.ws();
    if (!c.eat(",")) return into;
  }
}
