/**
 * The human-readable parts of a stanza or SIP request beyond body, subject and
 * thread, as typed data. The edge reads them from the wire and renders the
 * wire form back from what compliance decided; nothing in here is wire text.
 */

/**
 * An XML element as data: name, namespace, attributes and children (elements
 * or text, entities already decoded). Payloads the edge keeps without
 * modelling their meaning (an IQ's query, a chat state, an unknown extension)
 * travel like this, so every text node and attribute value is a part that
 * compliance reads and redaction can rewrite.
 */
export interface XNode {
  name: string;
  /** The element's namespace, when it declares one. */
  ns?: string | undefined;
  /** Attributes other than xmlns. */
  attrs: Record<string, string>;
  children: (XNode | string)[];
}

/** XEP-0071 XHTML-IM: the markup, whose text (every text node, in order) is one part. */
export interface Xhtml {
  markup: XNode;
}

/** XEP-0066 out-of-band data: jabber:x:oob in a message. */
export interface Link {
  url: string;
  desc?: string | undefined;
}

/** XEP-0447 stateless file sharing with XEP-0446 metadata. */
export interface FileOffer {
  name?: string | undefined;
  desc?: string | undefined;
  mediaType?: string | undefined;
  size?: number | undefined;
  /** XEP-0300 hashes: algorithm and base64 value. */
  hashes?: { algo: string; value: string }[] | undefined;
  /** XEP-0447 url-data sources. */
  urls?: string[] | undefined;
  /** Whether the offer says it may be shown inline (disposition attribute). */
  disposition?: string | undefined;
}

/** A MUC invitation: XEP-0045 section 7.8.2 (mediated) or XEP-0249 (direct). */
export interface Invite {
  via: "mediated" | "direct";
  /** The room (direct: jid attribute; mediated: the message's sender). */
  room?: string | undefined;
  /** Mediated: the invitee (to) or the inviter (from) on the <invite/>. */
  to?: string | undefined;
  from?: string | undefined;
  reason?: string | undefined;
  password?: string | undefined;
  /** XEP-0249 section 3: continuing a one-to-one chat. */
  thread?: string | undefined;
  continue?: boolean | undefined;
}

/** The error a stanza of type "error" carries (RFC 6120 section 8.3). */
export interface StanzaErrorContent {
  type: string;
  condition: string;
  text?: string | undefined;
  /** Who generated it (RFC 6120 8.3.2 'by'). */
  by?: string | undefined;
}

/** What the edge does with elements it does not model: policy's `extensions:`. */
export type ExtensionAction = "strip" | "pass" | "block";
