/**
 * Stanza children -> typed content (src/model/content.ts), for s2s and c2s
 * alike. Each child is read into what it means or, when the edge does not
 * model it, kept as an XNode tree among the extensions that policy governs.
 * Nothing of the wire text is kept: rendering (content-render.ts) builds the
 * stanza again from what compliance decided.
 *
 * Texts arrive with entities and CDATA already decoded by the parser, so
 * `&#x73;ecret` and `<![CDATA[secret]]>` are read as "secret".
 */
import type { FileOffer, Invite, Link, StanzaErrorContent, XNode } from "../model/content.js";
import type { Envelope } from "../model/envelope.js";
import { NS_CLIENT, NS_SERVER } from "./ns.js";
import { NS_STANZA_ERRORS } from "./errors.js";
import type { Element } from "./xml.js";

export const NS_XHTML_IM = "http://jabber.org/protocol/xhtml-im";
export const NS_OOB = "jabber:x:oob";
export const NS_SFS = "urn:xmpp:sfs:0";
export const NS_FILE_META = "urn:xmpp:file:metadata:0";
export const NS_HASHES = "urn:xmpp:hashes:2";
export const NS_URL_DATA = "http://jabber.org/protocol/url-data";
export const NS_MUC_USER = "http://jabber.org/protocol/muc#user";
export const NS_CONFERENCE = "jabber:x:conference";
export const NS_NICK = "http://jabber.org/protocol/nick";
export const NS_CORRECT = "urn:xmpp:message-correct:0";
export const NS_CARBONS = "urn:xmpp:carbons:2";

/**
 * Elements known to carry no text of their own, re-rendered as they came,
 * with the attributes and children each may have: XEP-0085 chat states,
 * XEP-0184 receipts, XEP-0333 markers, XEP-0334 hints, XEP-0359 ids, XEP-0203
 * delay, XEP-0115 caps, XEP-0153 avatar hash, XEP-0319 idle, XEP-0045 join.
 * One that carries more than its shape allows is an extension like any
 * other (policy's `extensions:` decides), so a signal is no side channel.
 */
const SIGNALS: Record<string, { attrs: string[]; children?: string[]; text?: boolean }> = {
  "http://jabber.org/protocol/chatstates": { attrs: [] },
  "urn:xmpp:receipts": { attrs: ["id"] },
  "urn:xmpp:chat-markers:0": { attrs: ["id", "sender"] },
  "urn:xmpp:hints": { attrs: [] },
  "urn:xmpp:sid:0": { attrs: ["id", "by"] },
  "urn:xmpp:delay": { attrs: ["from", "stamp"], text: true },
  "http://jabber.org/protocol/caps": { attrs: ["hash", "node", "ver", "ext"] },
  "vcard-temp:x:update": { attrs: [], children: ["photo"] },
  "urn:xmpp:idle:1": { attrs: ["since"] },
  "http://jabber.org/protocol/muc": { attrs: [], children: ["history", "password"] },
};

function isSignal(c: Element): boolean {
  const shape = SIGNALS[c.attrs.xmlns ?? ""];
  if (!shape) return false;
  if (Object.keys(c.attrs).some((a) => a !== "xmlns" && !shape.attrs.includes(a))) return false;
  // Known children hold short values (a photo hash, a password, history limits) and nothing nested.
  return c.children.every((n) =>
    typeof n === "string" ? shape.text === true || n.trim() === "" : (shape.children ?? []).includes(n.name) && n.attrs.xmlns === undefined && n.getChildElements().length === 0,
  );
}

/** An element as data; xmlns goes to `ns`, text children are kept as decoded. */
export function toXNode(el: Element): XNode {
  const { xmlns, ...attrs } = el.attrs;
  return { name: el.name, ns: xmlns, attrs, children: el.children.map((c) => (typeof c === "string" ? c : toXNode(c))) };
}

/** A child in the stanza's own namespace (RFC 6120 section 8.3: body, subject, thread, error, show, status...). */
function own(c: Element, names: readonly string[]): boolean {
  const ns = c.attrs.xmlns;
  return names.includes(c.name) && (ns === undefined || ns === NS_CLIENT || ns === NS_SERVER);
}

// The name lists own() is asked about for every child of every stanza, made once.
const TEXTS = ["body", "subject", "thread"] as const;
const ERROR = ["error"] as const;

function readError(e: Element): StanzaErrorContent {
  const cond = e.getChildElements().find((c) => c.attrs.xmlns === NS_STANZA_ERRORS && c.name !== "text");
  const text = e.getChild("text", NS_STANZA_ERRORS)?.getText();
  return { type: e.attrs.type ?? "cancel", condition: cond?.name ?? "undefined-condition", text, by: e.attrs.by };
}

function readSfs(el: Element): FileOffer {
  const f = el.getChild("file", NS_FILE_META);
  const size = Number(f?.getChildText("size"));
  return {
    name: f?.getChildText("name") ?? undefined,
    desc: f?.getChildText("desc") ?? undefined,
    mediaType: f?.getChildText("media-type") ?? undefined,
    size: Number.isSafeInteger(size) && size >= 0 ? size : undefined,
    hashes: f?.getChildren("hash", NS_HASHES).map((h) => ({ algo: h.attrs.algo ?? "", value: h.getText() })),
    urls: el.getChild("sources")?.getChildren("url-data", NS_URL_DATA).map((u) => u.attrs.target ?? ""),
    disposition: el.attrs.disposition,
  };
}

function readInvites(x: Element): Invite[] {
  const password = x.getChildText("password") ?? undefined;
  return x.getChildren("invite").map((i) => ({ via: "mediated", to: i.attrs.to, from: i.attrs.from, reason: i.getChildText("reason") ?? undefined, password }));
}

function readDirect(x: Element): Invite {
  const a = x.attrs;
  return { via: "direct", room: a.jid, reason: a.reason, password: a.password, thread: a.thread, continue: a.continue === "true" ? true : undefined };
}

type Content = Pick<
  Envelope,
  "body" | "subject" | "thread" | "xhtml" | "links" | "files" | "invites" | "nick" | "replaces" | "signals" | "extensions" | "payload" | "error"
>;

function push<K extends "links" | "files" | "invites" | "signals" | "extensions" | "payload">(c: Content, k: K, ...v: NonNullable<Content[K]>): void {
  ((c[k] ??= [] as never) as unknown[]).push(...v);
}

/** One child of a message or presence; true when it was read as content. */
function readChild(c: Element, out: Content): boolean {
  const ns = c.attrs.xmlns;
  if (own(c, TEXTS)) {
    // Alternate-language copies (RFC 6121 5.2.3) are not kept: the first is the text compliance decides on.
    const k = c.name as "body" | "subject" | "thread";
    out[k] ??= c.getText();
    return true;
  }
  if (own(c, ERROR)) return (out.error ??= readError(c)), true;
  if (c.name === "html" && ns === NS_XHTML_IM) return (out.xhtml ??= { markup: toXNode(c) }), true;
  if (c.name === "x" && ns === NS_OOB) {
    const link: Link = { url: c.getChildText("url") ?? "", desc: c.getChildText("desc") ?? undefined };
    return push(out, "links", link), true;
  }
  if (c.name === "file-sharing" && ns === NS_SFS) return push(out, "files", readSfs(c)), true;
  if (c.name === "x" && ns === NS_MUC_USER && c.getChild("invite")) return push(out, "invites", ...readInvites(c)), true;
  if (c.name === "x" && ns === NS_CONFERENCE) return push(out, "invites", readDirect(c)), true;
  if (c.name === "nick" && ns === NS_NICK) return (out.nick ??= c.getText()), true;
  if (c.name === "replace" && ns === NS_CORRECT && c.attrs.id) return (out.replaces ??= c.attrs.id), true;
  if (isSignal(c)) return push(out, "signals", toXNode(c)), true;
  return false;
}

/**
 * The content of a message, presence or IQ. `skip` names children the caller
 * reads itself (presence show/status/priority). XEP-0280 carbons elements are
 * for the sender's own clients and are never content.
 */
export function readContent(el: Element, skip: readonly string[] = []): Content {
  const out: Content = {};
  for (const c of el.children) {
    if (typeof c !== "object") continue;
    if (c.attrs.xmlns === NS_CARBONS) continue;
    if (own(c, skip)) continue;
    if (el.name === "iq") {
      if (own(c, ERROR)) out.error ??= readError(c);
      else push(out, "payload", toXNode(c));
      continue;
    }
    if (!readChild(c, out)) push(out, "extensions", toXNode(c));
  }
  return out;
}

/** Only the fields that are set, so envelopes stay small and comparable. */
export function definedOnly<T extends object>(o: T): T {
  return assignDefined({} as T, o);
}

/** Copies the fields of `from` that are set onto `to` (definedOnly without the intermediate object). */
export function assignDefined<T extends object>(to: T, from: object): T {
  const src = from as Record<string, unknown>;
  const dst = to as Record<string, unknown>;
  for (const k in src) if (src[k] !== undefined) dst[k] = src[k];
  return to;
}
