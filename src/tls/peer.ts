/**
 * Who a peer's certificate says it is, and whether that is the domain we
 * expect.
 *
 * - RFC 6125 section 6: reference identifiers (DNS-ID, SRV-ID, URI-ID) and the
 *   CN-ID fallback (6.4.4: only when the certificate has no DNS-ID, SRV-ID,
 *   URI-ID or application-specific identifier).
 * - RFC 6125 section 6.4.3 / RFC 6120 section 13.7.1.2: a wildcard is allowed
 *   only as the whole leftmost label ("*.example.com"), matching exactly one label.
 * - RFC 6120 section 13.7.1.4 / XEP-0178: XmppAddr (id-on-xmppAddr) naming the
 *   bare domain identifies an XMPP server.
 * - RFC 4985: SRVName "_xmpp-server.example.com" (XMPP s2s), "_xmpp-client..." (c2s).
 * - RFC 5922 section 7.1-7.2: a SIP domain is identified by URI-IDs of scheme
 *   sip (no user part), else by DNS-IDs, else by the CN; wildcards MUST NOT match.
 */
import { domainToASCII } from "node:url";
import type { X509Certificate } from "node:crypto";
import { readSan } from "./san.js";

export interface PeerNames {
  dns: string[];
  srv: string[];
  xmppAddr: string[];
  uri: string[];
  cn?: string;
}

export type IdentityMatch =
  | { ok: true; via: "xmpp-addr" | "srv-id" | "dns-id" | "uri-id" | "cn-id" }
  | { ok: false; reason: string };

export type PeerService = "xmpp-server" | "xmpp-client" | "sip";

/** Lowercase A-label form without a trailing dot; "" when not a valid domain. */
export function normalizeDomain(name: string): string {
  const trimmed = name.trim().replace(/\.$/, "");
  if (!trimmed || trimmed.includes("..")) return "";
  // Keep a leading "*." intact: domainToASCII would reject the star.
  if (trimmed.startsWith("*.")) {
    const rest = domainToASCII(trimmed.slice(2));
    return rest ? `*.${rest}` : "";
  }
  return domainToASCII(trimmed);
}

export function commonName(subject: string): string | undefined {
  const lines = subject.split("\n").filter((l) => l.startsWith("CN="));
  // The most specific (last) CN, as RFC 6125 section 6.4.4 allows only one to be used.
  return lines.length ? lines[lines.length - 1]!.slice(3) : undefined;
}

// A connection checks the same certificate more than once (chain, then each domain it claims).
const parsed = new WeakMap<X509Certificate, PeerNames>();

export function peerNames(cert: X509Certificate): PeerNames {
  const hit = parsed.get(cert);
  if (hit) return hit;
  const names = parseNames(cert);
  parsed.set(cert, names);
  return names;
}

function parseNames(cert: X509Certificate): PeerNames {
  let san;
  try {
    san = readSan(cert.raw);
  } catch {
    san = undefined;
  }
  const names: PeerNames = {
    dns: (san?.dns ?? []).map((d) => d.toLowerCase()),
    srv: (san?.srv ?? []).map((s) => s.toLowerCase()),
    xmppAddr: san?.xmppAddr ?? [],
    uri: san?.uri ?? [],
  };
  const cn = commonName(cert.subject);
  if (cn !== undefined) names.cn = cn;
  return names;
}

/**
 * DNS name matching (RFC 6125 section 6.4.1-6.4.3). A wildcard is honoured
 * only as the complete leftmost label and never matches the bare parent or
 * more than one label; "f*.example.com" and "*.com"-style patterns never match.
 */
export function matchDnsId(pattern: string, reference: string, allowWildcard = true): boolean {
  const p = normalizeDomain(pattern);
  const r = normalizeDomain(reference);
  if (!p || !r || r.startsWith("*")) return false;
  if (p === r) return true;
  if (!allowWildcard || !p.startsWith("*.")) return false;
  const parent = p.slice(2);
  // At least two labels after the wildcard, so "*.com" cannot cover a TLD.
  if (!parent.includes(".")) return false;
  const dot = r.indexOf(".");
  return dot > 0 && r.slice(dot + 1) === parent;
}

/** SRV-ID: "_service.name" (RFC 6125 section 6.5.1); the name part compares as a DNS-ID. */
function matchSrvId(srvId: string, service: string, domain: string): boolean {
  const prefix = `_${service}.`;
  if (!srvId.startsWith(prefix)) return false;
  return matchDnsId(srvId.slice(prefix.length), domain);
}

/** A SIP URI naming a domain: "sip:example.com" (RFC 5922 section 7.1: no user part, compare host only). */
function sipUriHost(uri: string): string | undefined {
  const m = /^sips?:([^;?@]+)(?:[;?].*)?$/i.exec(uri);
  if (!m) return undefined;
  return m[1]!.replace(/:\d+$/, "");
}

export function checkPeerIdentity(cert: X509Certificate, domain: string, service: PeerService): IdentityMatch {
  const ref = normalizeDomain(domain);
  if (!ref) return { ok: false, reason: `"${domain}" is not a valid domain name` };
  const names = peerNames(cert);
  return service === "sip" ? checkSip(names, ref) : checkXmpp(names, ref, service);
}

function checkXmpp(names: PeerNames, ref: string, service: "xmpp-server" | "xmpp-client"): IdentityMatch {
  if (names.srv.some((s) => matchSrvId(s, service, ref))) return { ok: true, via: "srv-id" };
  // RFC 6120 13.7.1.4: an XmppAddr for a server is its bare domain; no wildcards.
  if (names.xmppAddr.some((x) => !x.includes("@") && !x.includes("/") && normalizeDomain(x) === ref)) {
    return { ok: true, via: "xmpp-addr" };
  }
  if (names.dns.some((d) => matchDnsId(d, ref))) return { ok: true, via: "dns-id" };
  const hasSanId = names.dns.length + names.srv.length + names.uri.length + names.xmppAddr.length > 0;
  if (!hasSanId && names.cn !== undefined && matchDnsId(names.cn, ref, false)) return { ok: true, via: "cn-id" };
  return { ok: false, reason: mismatch(names, ref, hasSanId) };
}

function checkSip(names: PeerNames, ref: string): IdentityMatch {
  const sipUris = names.uri.map(sipUriHost).filter((h): h is string => h !== undefined);
  if (sipUris.length > 0) {
    // RFC 5922 7.1: when SIP URIs are present they alone identify the peer.
    if (sipUris.some((h) => normalizeDomain(h) === ref)) return { ok: true, via: "uri-id" };
    return { ok: false, reason: mismatch(names, ref, true) };
  }
  // RFC 5922 7.2: wildcards MUST NOT be accepted for SIP domains.
  if (names.dns.some((d) => matchDnsId(d, ref, false))) return { ok: true, via: "dns-id" };
  if (names.dns.length === 0 && names.cn !== undefined && matchDnsId(names.cn, ref, false)) return { ok: true, via: "cn-id" };
  return { ok: false, reason: mismatch(names, ref, names.dns.length > 0) };
}

function mismatch(names: PeerNames, ref: string, hasSanId: boolean): string {
  const listed = [
    ...names.dns.map((d) => `DNS:${d}`),
    ...names.srv.map((s) => `SRVName:${s}`),
    ...names.xmppAddr.map((x) => `XmppAddr:${x}`),
    ...names.uri.map((u) => `URI:${u}`),
  ];
  if (!hasSanId && names.cn !== undefined) listed.push(`CN:${names.cn}`);
  return listed.length
    ? `certificate does not name ${ref} (it names ${listed.slice(0, 8).join(", ")}${listed.length > 8 ? ", ..." : ""})`
    : `certificate names no identity (no subjectAltName and no CN); expected ${ref}`;
}
