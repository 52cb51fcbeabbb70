/**
 * XMPP address validation per RFC 7622. @xmpp/jid lowercases but accepts
 * nonsense such as "a@b@c", so every address from the wire passes here first.
 * Localparts are prepared with the PRECIS UsernameCaseMapped profile and
 * resourceparts with OpaqueString (RFC 7622 3.3, 3.4; src/model/precis.ts),
 * so one account has one spelling whatever form a client sends.
 */
import { opaqueString, PrecisError, usernameCaseMapped } from "./precis.js";

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
const PART_MAX = 1023; // octets, RFC 7622 sections 3.2-3.4

export function isValidDomain(domain: string): boolean {
  if (domain.length === 0 || Buffer.byteLength(domain) > PART_MAX) return false;
  if (/^\[[0-9a-f:.]+\]$/i.test(domain)) return true; // IPv6 literal
  const d = domain.endsWith(".") ? domain.slice(0, -1) : domain;
  return d.split(".").every((label) => LABEL.test(label));
}

function prepare(input: string, part: string, fn: (s: string, what: string) => string, what: string): string {
  try {
    return fn(part, what);
  } catch (err) {
    if (err instanceof PrecisError) throw new JidMalformedError(input, err.message);
    throw err;
  }
}

export function parseJid(input: string): Jid {
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
