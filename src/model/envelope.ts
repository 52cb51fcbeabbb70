/**
 * The canonical Envelope: every protocol the edge speaks is translated into this
 * one shape, so policy, archive and core never see a wire format.
 */
import type { FileOffer, Invite, Link, StanzaErrorContent, XNode, Xhtml } from "./content.js";
import type { RichPresence } from "./presence.js";

export type Direction = "inbound" | "outbound" | "internal";
export type Protocol = "xmpp" | "sip" | "internal";

/** What crosses; compliance profiles route kinds to stages. */
export type EnvelopeKind =
  | "message"
  | "presence"
  | "subscription"
  | "groupchat"
  | "file-transfer"
  | "iq";

/** How the peer proved who it is on the stream the envelope arrived on. */
export interface SecurityContext {
  tlsVersion?: string | undefined;
  /** "certificate" (SASL EXTERNAL / mutual TLS), "dialback", "password" (c2s) or "none". */
  auth: "certificate" | "dialback" | "password" | "none";
  /** SHA-256 fingerprint of the peer certificate, colon-separated hex. */
  certFingerprint?: string | undefined;
  /** Remote address the stream came from, for audit. */
  remoteAddress?: string | undefined;
}

export interface Envelope {
  /** Stable id, used for idempotent archiving and for correlating errors. */
  id: string;
  /** When demarc received it (UTC, ms since epoch). */
  receivedAt: number;
  direction: Direction;
  protocol: Protocol;
  kind: EnvelopeKind;
  /** Bare or full address in XMPP form (SIP URIs are mapped per RFC 7247 at the edge). */
  from: string;
  to: string;
  /** The domain on the far side of the edge; undefined for internal traffic. */
  partnerDomain?: string | undefined;
  /** Message type (chat, normal, groupchat, headline, error) or presence type. */
  type?: string | undefined;
  body?: string | undefined;
  subject?: string | undefined;
  thread?: string | undefined;
  /** Present for kind "presence"; its note is the status line. */
  presence?: RichPresence | undefined;
  /** XEP-0071: the body as XHTML-IM markup. */
  xhtml?: Xhtml | undefined;
  /** XEP-0066 out-of-band links. */
  links?: Link[] | undefined;
  /** XEP-0447 file offers. */
  files?: FileOffer[] | undefined;
  /** XEP-0045 mediated and XEP-0249 direct MUC invitations. */
  invites?: Invite[] | undefined;
  /** XEP-0172 user nickname (messages and subscription requests). */
  nick?: string | undefined;
  /** XEP-0308: the id of the message this one corrects; the body is the correction. */
  replaces?: string | undefined;
  /** Known elements without text of their own (chat states, receipts, markers, caps, ...), re-rendered as they came. */
  signals?: XNode[] | undefined;
  /** Elements the edge does not model; policy's `extensions:` strips, passes or blocks them. */
  extensions?: XNode[] | undefined;
  /** An IQ's payload: for an IQ the payload is the request (RFC 6120 section 8.2.3). */
  payload?: XNode[] | undefined;
  /** For type "error": the condition it carries. */
  error?: StanzaErrorContent | undefined;
  /** Security context of the stream it arrived on. */
  security?: SecurityContext | undefined;
  /** Free-form annotations that stages add (tags, disclaimers applied, ...). */
  tags?: string[] | undefined;
}

/**
 * s.toLowerCase(), but `s` itself when nothing in it would change: addresses
 * mostly arrive prepared (lower case already), and toLowerCase makes a new
 * string every time, which per stanza and per test adds up.
 */
export function lowerCased(s: string): string {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if ((c >= 65 && c <= 90) || c >= 128) return s.toLowerCase();
  }
  return s;
}

/** Bare domain of an XMPP address (localpart@domain/resource). */
export function domainOf(address: string): string {
  const at = address.indexOf("@");
  const slash = address.indexOf("/", at + 1);
  return lowerCased(address.slice(at + 1, slash >= 0 ? slash : address.length));
}

/** Bare address (localpart@domain) of an XMPP address. */
export function bareOf(address: string): string {
  const slash = address.indexOf("/", address.indexOf("@") + 1);
  return lowerCased(slash >= 0 ? address.slice(0, slash) : address);
}
