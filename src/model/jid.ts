/**
 * XMPP address validation per RFC 7622. @xmpp/jid lowercases but accepts
 * nonsense such as "a@b@c", so every address from the wire passes here first.
 * Localparts are prepared with the PRECIS UsernameCaseMapped profile and
 * resourceparts with OpaqueString (RFC 7622 3.3, 3.4; src/model/precis.ts),
 * so one account has one spelling whatever form a client sends.
 */
import { opaqueString, PrecisError, usernameCaseMapped } from "./precis.js";
import { RecentlyUsed } from "./recent.js";

export interface Jid {
  local?: string | undefined;
  domain: string;
  resource?: string | undefined;
}

export class JidMalformedError extends Error {
  readonly condition = "jid-malformed";
  constructor(readonly input: string, reason: string) {
    super(`jid-malformed: ${reason}`);
  }
}

// RFC 7622 section 3.3.1: these may not appear in a localpart.
const LOCAL_FORBIDDEN = /["&'/:<>@\s]/u;
const LABEL = /^(?!-)[a-z0-9\u00a1-\uffff-]{1,63}(?<!-)$/u;
const IPV6_LITERAL = /^\[[0-9a-f:.]+\]$/i;
const PART_MAX = 1023; // octets, RFC 7622 sections 3.2-3.4

export function isValidDomain(domain: string): boolean {
  if (domain.length === 0 || Buffer.byteLength(domain) > PART_MAX) return false;
  if (IPV6_LITERAL.test(domain)) return true;
  const end = domain.endsWith(".") ? domain.length - 1 : domain.length;
  // Label by label without splitting: an address is checked on every stanza that carries it.
  for (let start = 0; ; ) {
    const dot = domain.indexOf(".", start);
    const stop = dot < 0 || dot > end ? end : dot;
    if (!LABEL.test(domain.slice(start, stop))) return false;
    if (stop >= end) return true;
    start = stop + 1;
  }
}

function prepare(input: string, part: string, fn: (s: string, what: string) => string, what: string): string {
  try {
    return fn(part, what);
  } catch (err) {
    if (err instanceof PrecisError) throw new JidMalformedError(input, err.message);
    throw err;
  }
}

/**
 * Addresses already prepared, by the form they arrived in. A relay sees the
 * same few addresses on stanza after stanza, and PRECIS preparation (Unicode
 * normalization and a property test per code point) is most of what parsing
 * one costs. Bounded (recent.ts), because addresses from the wire are the
 * sender's to choose, and an input longer than any everyday address is parsed
 * each time rather than held. Only addresses that parse are kept; a malformed
 * one is refused afresh every time.
 */
const CACHE_ENTRIES = 2048;
const CACHE_MAX_INPUT = 256;
const prepared = new RecentlyUsed<string, { jid: Readonly<Jid>; text: string }>(CACHE_ENTRIES);

function lookup(input: string): { jid: Readonly<Jid>; text: string } {
  let hit = input.length <= CACHE_MAX_INPUT ? prepared.get(input) : undefined;
  if (hit) return hit;
  const jid = Object.freeze(parse(input));
  hit = { jid, text: formatJid(jid) };
  if (input.length <= CACHE_MAX_INPUT) prepared.set(input, hit);
  return hit;
}

/** Parses and prepares an address (RFC 7622); the result is shared between callers, so it is frozen. */
export function parseJid(input: string): Readonly<Jid> {
  return lookup(input).jid;
}

/** The address as prepared, in its string form: formatJid(parseJid(input)). */
export function preparedJid(input: string): string {
  return lookup(input).text;
}

function parse(input: string): Jid {
  const slash = input.indexOf("/");
  const head = slash >= 0 ? input.slice(0, slash) : input;
  const rawResource = slash >= 0 ? input.slice(slash + 1) : undefined;
  const at = head.indexOf("@");
  const rawLocal = at >= 0 ? head.slice(0, at) : undefined;
  const domain = (at >= 0 ? head.slice(at + 1) : head).toLowerCase().normalize("NFC");
  if (rawLocal !== undefined && rawLocal.length === 0) throw new JidMalformedError(input, "empty localpart");
  if (rawResource !== undefined && rawResource.length === 0) throw new JidMalformedError(input, "empty resourcepart");
  const local = rawLocal === undefined ? undefined : prepare(input, rawLocal, usernameCaseMapped, "localpart");
  const resource = rawResource === undefined ? undefined : prepare(input, rawResource, opaqueString, "resourcepart");
  if (local !== undefined) {
    if (LOCAL_FORBIDDEN.test(local)) throw new JidMalformedError(input, "forbidden character in localpart");
    if (Buffer.byteLength(local) > PART_MAX) throw new JidMalformedError(input, "localpart too long");
  }
  if (!isValidDomain(domain)) throw new JidMalformedError(input, `invalid domain "${domain}"`);
  if (resource !== undefined) {
    if (Buffer.byteLength(resource) > PART_MAX) throw new JidMalformedError(input, "resourcepart too long");
  }
  return { local, domain, resource };
}

export function formatJid(jid: Jid, bare = false): string {
  const base = jid.local ? `${jid.local}@${jid.domain}` : jid.domain;
  return !bare && jid.resource ? `${base}/${jid.resource}` : base;
}
