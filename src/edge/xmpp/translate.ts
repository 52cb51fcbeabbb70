/**
 * Stanza <-> canonical Envelope. Inbound, the stanza's addresses were already
 * checked against the stream (RFC 6120 section 8.1.2.1); here they are only
 * read. Outbound, presence is rendered for the partner's profile (src/mapping).
 */
import { randomUUID } from "node:crypto";
import type { Envelope, EnvelopeKind, SecurityContext } from "../../model/envelope.js";
import { fromXmppPresence, toXmppPresence, type XmppProfile } from "../../mapping/xmpp-presence.js";
import { xml, type Element } from "./xml.js";
import { NS_SERVER, NS_STREAMS } from "./ns.js";
import { XmppStreamParser } from "./stream-parser.js";
import { StanzaError } from "./errors.js";
import { isFileTransfer } from "./file-transfer.js";

const SUBSCRIPTION_TYPES = new Set(["subscribe", "subscribed", "unsubscribe", "unsubscribed"]);

function kindOf(el: Element): EnvelopeKind {
  if (el.name === "iq") return "iq";
  if (el.name === "presence") return SUBSCRIPTION_TYPES.has(el.attrs.type ?? "") ? "subscription" : "presence";
  if (el.attrs.type === "groupchat") return "groupchat";
  return isFileTransfer(el) ? "file-transfer" : "message";
}

export function stanzaToEnvelope(el: Element, partnerDomain: string, security: SecurityContext): Envelope {
  const kind = kindOf(el);
  const env: Envelope = {
    id: randomUUID(),
    receivedAt: Date.now(),
    direction: "inbound",
    protocol: "xmpp",
    kind,
    from: el.attrs.from!,
    to: el.attrs.to!,
    partnerDomain,
    type: el.attrs.type,
    security,
    original: el.toString(),
  };
  if (el.attrs.id) env.tags = [`stanza-id:${el.attrs.id}`];
  if (el.name === "message") {
    env.body = el.getChildText("body") ?? undefined;
    env.subject = el.getChildText("subject") ?? undefined;
    env.thread = el.getChildText("thread") ?? undefined;
  } else if (kind === "presence" && (el.attrs.type === undefined || el.attrs.type === "unavailable")) {
    env.presence = fromXmppPresence({
      type: el.attrs.type,
      show: el.getChildText("show") ?? undefined,
      status: el.getChildText("status") ?? undefined,
    });
    const prio = Number(el.getChildText("priority"));
    if (el.getChild("priority") && Number.isInteger(prio)) env.presence.priority = prio;
  }
  return env;
}

/** The stanza id an inbound envelope carried, so replies can correlate. */
export function stanzaIdOf(env: Envelope): string | undefined {
  return env.tags?.find((t) => t.startsWith("stanza-id:"))?.slice("stanza-id:".length);
}

/** Children the envelope's own fields (or our rendering) stand for; the rest of an original stanza rides along. */
const OWNED = new Set(["body", "subject", "thread", "error", "show", "status", "priority"]);
/** XEP-0280 copies and XEP-0334 "private" markers are for the sender's own clients, never for a partner. */
const PRIVATE_NS = new Set(["urn:xmpp:carbons:2"]);

/** The XMPP stanza an envelope was made from, parsed with the same restrictions as the wire. */
function parseOriginal(original: string | undefined): Element | undefined {
  if (!original || !original.startsWith("<") || original.length > 1_048_576) return undefined;
  const p = new XmppStreamParser({ maxStanzaBytes: 1_048_576 + 1024 });
  let out: Element | undefined;
  p.on("stanza", (el) => (out ??= el));
  p.on("error", () => (out = undefined));
  p.write(Buffer.from(`<stream:stream xmlns='${NS_SERVER}' xmlns:stream='${NS_STREAMS}'>${original}`));
  return out && (out.name === "message" || out.name === "presence" || out.name === "iq") ? out : undefined;
}

function extensions(orig: Element | undefined): Element[] {
  if (!orig) return [];
  return orig.getChildElements().filter((c) => !OWNED.has(c.name) && !PRIVATE_NS.has(c.attrs.xmlns ?? ""));
}

/** RFC 6120 section 8.3.1: an error stanza MUST carry an <error/>; the original's, or undefined-condition. */
function errorChild(env: Envelope, orig: Element | undefined): Element[] {
  if (env.type !== "error") return [];
  const e = orig?.getChild("error");
  return [e ?? new StanzaError("undefined-condition").errorElement()];
}

/**
 * Outbound: the stanza to send for an envelope. An envelope that came from
 * XMPP keeps its payload (extensions the core did not touch) with the body
 * compliance may have changed; others are built from the envelope's fields.
 */
export function envelopeToStanza(env: Envelope, profile: XmppProfile): Element {
  const orig = parseOriginal(env.original);
  const id = stanzaIdOf(env) ?? orig?.attrs.id ?? env.id;
  if (env.kind === "presence" || env.kind === "subscription") {
    const attrs: Record<string, string | undefined> = { xmlns: NS_SERVER, from: env.from, to: env.to, id };
    if (env.kind === "subscription" || (env.type && env.type !== "unavailable")) {
      return xml("presence", { ...attrs, type: env.type }, ...(env.kind === "subscription" ? [] : extensions(orig)), ...errorChild(env, orig));
    }
    const p = env.presence ? toXmppPresence(env.presence, profile) : env.type === "unavailable" ? { type: "unavailable" as const } : {};
    return xml(
      "presence",
      { ...attrs, type: p.type },
      p.show ? xml("show", {}, p.show) : undefined,
      p.status ? xml("status", {}, p.status) : undefined,
      env.presence?.priority !== undefined && p.type === undefined ? xml("priority", {}, String(env.presence.priority)) : undefined,
      ...(orig?.name === "presence" ? extensions(orig) : []),
    );
  }
  if (env.kind === "iq") {
    // The payload is the IQ: it travels as it came (RFC 6120 section 8.2.3).
    const payload = orig?.name === "iq" ? orig.getChildElements().filter((c) => c.name !== "error") : [];
    return xml("iq", { xmlns: NS_SERVER, from: env.from, to: env.to, id, type: env.type ?? "get" }, ...payload, ...errorChild(env, orig));
  }
  const type = env.kind === "groupchat" ? "groupchat" : env.type;
  // Extensions only ride along when compliance left the body as written (a changed body may be a redaction).
  const sameBody = orig?.name === "message" && (orig.getChildText("body") ?? undefined) === env.body;
  return xml(
    "message",
    { xmlns: NS_SERVER, from: env.from, to: env.to, id, type },
    env.subject !== undefined ? xml("subject", {}, env.subject) : undefined,
    env.body !== undefined ? xml("body", {}, env.body) : undefined,
    env.thread !== undefined ? xml("thread", {}, env.thread) : undefined,
    ...(sameBody ? extensions(orig) : []),
    ...errorChild(env, orig),
  );
}
