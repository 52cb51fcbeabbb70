/**
 * XMPP stream and stanza errors, RFC 6120 sections 4.9 and 8.3. Conditions are
 * the RFC's own names so logs, metrics and peers all speak one vocabulary.
 */
import { Element, escapeXMLText, xml } from "./xml.js";

export const NS_STREAMS = "http://etherx.jabber.org/streams";
export const NS_STREAM_ERRORS = "urn:ietf:params:xml:ns:xmpp-streams";
export const NS_STANZA_ERRORS = "urn:ietf:params:xml:ns:xmpp-stanzas";

/** RFC 6120 section 4.9.3. */
export const STREAM_CONDITIONS = [
  "bad-format",
  "bad-namespace-prefix",
  "conflict",
  "connection-timeout",
  "host-gone",
  "host-unknown",
  "improper-addressing",
  "internal-server-error",
  "invalid-from",
  "invalid-namespace",
  "invalid-xml",
  "not-authorized",
  "not-well-formed",
  "policy-violation",
  "remote-connection-failed",
  "reset",
  "resource-constraint",
  "restricted-xml",
  "see-other-host",
  "system-shutdown",
  "undefined-condition",
  "unsupported-encoding",
  "unsupported-feature",
  "unsupported-stanza-type",
  "unsupported-version",
] as const;
export type StreamCondition = (typeof STREAM_CONDITIONS)[number];

export class StreamError extends Error {
  constructor(
    readonly condition: StreamCondition,
    readonly text?: string,
  ) {
    super(text ? `${condition}: ${text}` : condition);
    this.name = "StreamError";
  }

  /** RFC 6120 section 4.9.2: the error element, sent just before the closing stream tag. */
  toXml(): string {
    const text = this.text
      ? `<text xmlns='${NS_STREAM_ERRORS}' xml:lang='en'>${escapeXMLText(this.text)}</text>`
      : "";
    return `<stream:error><${this.condition} xmlns='${NS_STREAM_ERRORS}'/>${text}</stream:error>`;
  }

  /** Reads a received <stream:error/>; unknown conditions become undefined-condition (section 4.9.3.21). */
  static fromElement(el: Element): StreamError {
    let condition: StreamCondition = "undefined-condition";
    let text: string | undefined;
    for (const child of el.getChildElements()) {
      if (child.attrs.xmlns !== NS_STREAM_ERRORS) continue;
      if (child.name === "text") text = child.getText();
      else if ((STREAM_CONDITIONS as readonly string[]).includes(child.name)) condition = child.name as StreamCondition;
    }
    return new StreamError(condition, text);
  }
}

/** RFC 6120 section 8.3.3. */
export const STANZA_CONDITIONS = [
  "bad-request",
  "conflict",
  "feature-not-implemented",
  "forbidden",
  "gone",
  "internal-server-error",
  "item-not-found",
  "jid-malformed",
  "not-acceptable",
  "not-allowed",
  "not-authorized",
  "policy-violation",
  "recipient-unavailable",
  "redirect",
  "registration-required",
  "remote-server-not-found",
  "remote-server-timeout",
  "resource-constraint",
  "service-unavailable",
  "subscription-required",
  "undefined-condition",
  "unexpected-request",
] as const;
export type StanzaCondition = (typeof STANZA_CONDITIONS)[number];
export type StanzaErrorType = "auth" | "cancel" | "continue" | "modify" | "wait";

/** The error type each condition carries in the RFC's own examples. */
const DEFAULT_TYPE: Record<StanzaCondition, StanzaErrorType> = {
  "bad-request": "modify",
  conflict: "cancel",
  "feature-not-implemented": "cancel",
  forbidden: "auth",
  gone: "cancel",
  "internal-server-error": "cancel",
  "item-not-found": "cancel",
  "jid-malformed": "modify",
  "not-acceptable": "modify",
  "not-allowed": "cancel",
  "not-authorized": "auth",
  "policy-violation": "modify",
  "recipient-unavailable": "wait",
  redirect: "modify",
  "registration-required": "auth",
  "remote-server-not-found": "cancel",
  "remote-server-timeout": "wait",
  "resource-constraint": "wait",
  "service-unavailable": "cancel",
  "subscription-required": "auth",
  "undefined-condition": "cancel",
  "unexpected-request": "wait",
};

export function isStanzaCondition(c: string): c is StanzaCondition {
  return (STANZA_CONDITIONS as readonly string[]).includes(c);
}

export class StanzaError extends Error {
  readonly type: StanzaErrorType;

  constructor(
    readonly condition: StanzaCondition,
    readonly text?: string,
    type?: StanzaErrorType,
    /** The entity that generated the error (section 8.3.2 'by'). */
    readonly by?: string,
  ) {
    super(text ? `${condition}: ${text}` : condition);
    this.name = "StanzaError";
    this.type = type ?? DEFAULT_TYPE[condition];
  }

  /** From a router/delivery error; an unknown condition becomes undefined-condition. */
  static from(err: { condition: string; text?: string | undefined; type?: StanzaErrorType | undefined }, by?: string): StanzaError {
    const condition = isStanzaCondition(err.condition) ? err.condition : "undefined-condition";
    return new StanzaError(condition, err.text, err.type, by);
  }

  /** Reads the <error/> child of a received error stanza. */
  static fromStanza(stanza: Element): StanzaError | undefined {
    const error = stanza.getChild("error");
    if (!error) return undefined;
    let condition: StanzaCondition = "undefined-condition";
    let text: string | undefined;
    for (const child of error.getChildElements()) {
      if (child.attrs.xmlns !== NS_STANZA_ERRORS) continue;
      if (child.name === "text") text = child.getText();
      else if (isStanzaCondition(child.name)) condition = child.name;
    }
    const type = error.attrs.type as StanzaErrorType | undefined;
    return new StanzaError(condition, text, type && type in { auth: 1, cancel: 1, continue: 1, modify: 1, wait: 1 } ? type : undefined, error.attrs.by);
  }

  /** The <error/> element alone. */
  errorElement(): Element {
    return xml(
      "error",
      { type: this.type, by: this.by },
      xml(this.condition, { xmlns: NS_STANZA_ERRORS }),
      this.text ? xml("text", { xmlns: NS_STANZA_ERRORS, "xml:lang": "en" }, this.text) : undefined,
    );
  }

  /**
   * The error reply to a stanza (section 8.3.1): same kind and id, addresses
   * swapped, type "error". The original payload is not echoed back, so a
   * refused body is not carried a second time.
   */
  toElement(original: Element): Element {
    return xml(
      original.name,
      { xmlns: original.attrs.xmlns, type: "error", id: original.attrs.id, from: original.attrs.to, to: original.attrs.from },
      this.errorElement(),
    );
  }
}

/** Section 8.3.1: an error stanza is never answered with another error. */
export function mayReplyWithError(stanza: Element): boolean {
  return stanza.attrs.type !== "error" && (stanza.name !== "iq" || stanza.attrs.type === "get" || stanza.attrs.type === "set");
}

/**
 * What an error reply to a stanza needs of it (toElement, mayReplyWithError):
 * its name and attributes, without its content. This is what is kept while
 * the stanza waits for its result (a journal sync and a delivery away), so
 * its content is not held that long and moved to the old generation.
 */
export function stanzaHead(stanza: Element): Element {
  const head = new Element(stanza.name);
  head.attrs = stanza.attrs;
  return head;
}
