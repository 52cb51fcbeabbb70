/**
 * Addresses between SIP and XMPP (RFC 7247).
 *
 * RFC 7247 section 4: sip:user@domain and user@domain name the same entity.
 * The SIP user part is percent-decoded before it becomes an XMPP localpart,
 * and characters the localpart may not hold (RFC 7622 3.3.1) make the address
 * unmappable: the caller answers 484 Address Incomplete / jid-malformed. A JID
 * resource has no SIP counterpart here and is dropped (section 5.2 leaves it to
 * GRUUs, which federation peers do not use).
 */
import sip from "sip";
import { formatJid, JidMalformedError, parseJid } from "../model/jid.js";

export class AddressError extends Error {
  readonly condition = "jid-malformed";
}

/** sip:/sips: URI (or a name-addr's URI) -> bare JID. */
export function sipToJid(uri: string): string {
  const u = sip.parseUri(uri.trim());
  if (!u || (u.schema !== "sip" && u.schema !== "sips")) throw new AddressError(`not a SIP URI`);
  if (!u.user) throw new AddressError("SIP URI has no user part");
  let local: string;
  try {
    local = decodeURIComponent(u.user);
  } catch {
    throw new AddressError("bad percent-encoding in the user part");
  }
  try {
    return formatJid(parseJid(`${local}@${u.host}`), true);
  } catch (err) {
    if (err instanceof JidMalformedError) throw new AddressError(err.message);
    throw err;
  }
}

// RFC 3261 25.1 "user" = 1*( unreserved / escaped / user-unreserved ).
const USER_SAFE = /[A-Za-z0-9\-_.!~*'()&=+$,;?/]/;

function escapeUser(local: string): string {
  let out = "";
  for (const ch of local) {
    if (USER_SAFE.test(ch)) out += ch;
    else for (const b of Buffer.from(ch, "utf8")) out += `%${b.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

/** JID (bare or full) -> sip: URI. */
export function jidToSip(jid: string): string {
  let parsed;
  try {
    parsed = parseJid(jid);
  } catch (err) {
    throw new AddressError((err as Error).message);
  }
  if (!parsed.local) throw new AddressError("a domain JID has no SIP user");
  return `sip:${escapeUser(parsed.local)}@${parsed.domain}`;
}

/** The domain part of a SIP URI, lower case. */
export function sipDomain(uri: string): string | undefined {
  return sip.parseUri(uri.trim())?.host.toLowerCase();
}
