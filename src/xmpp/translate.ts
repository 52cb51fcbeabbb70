/**
 * Stanza <-> canonical Envelope. Inbound, the stanza's addresses were already
 * checked against the stream (RFC 6120 section 8.1.2.1); here they are only
 * read, and its children become typed content (content-read.ts). Outbound,
 * presence is rendered for the partner's profile (src/mapping).
 */
import { newId } from "../model/id.js";
import type { Envelope, EnvelopeKind, SecurityContext } from "../model/envelope.js";
import type { StateMap } from "../mapping/state-map.js";
import { fromXmppPresence, toXmppPresence, type XmppProfile } from "../mapping/xmpp-presence.js";
import { xml, xmlWith, type Element } from "./xml.js";
import { NS_SERVER } from "./ns.js";
import { isFileTransfer } from "./file-transfer.js";
import { assignDefined, readContent } from "./content-read.js";
import { iqChildren, messageChildren, presenceExtras } from "./content-render.js";

/** Presence children the presence mapping reads itself (RFC 6121 section 4.7.2). */
const PRESENCE_OWN = ["show", "status", "priority"] as const;

const NONE: readonly string[] = [];

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
    id: newId(),
    receivedAt: Date.now(),
    direction: "inbound",
    protocol: "xmpp",
    kind,
    from: el.attrs.from!,
    to: el.attrs.to!,
    partnerDomain,
    type: el.attrs.type,
    security,
  };
  if (el.attrs.id) env.tags = [`stanza-id:${el.attrs.id}`];
  assignDefined(env, readContent(el, el.name === "presence" ? PRESENCE_OWN : NONE));
  if (kind === "presence" && (el.attrs.type === undefined || el.attrs.type === "unavailable")) {
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

/**
 * Outbound: the stanza to send for an envelope, rendered from its content as
 * compliance decided it (content-render.ts); nothing of an inbound stanza's
 * wire text is reused.
 */
export function envelopeToStanza(env: Envelope, profile: XmppProfile, states?: StateMap): Element {
  const id = stanzaIdOf(env) ?? env.id;
  if (env.kind === "presence" || env.kind === "subscription") {
    const attrs: Record<string, string | undefined> = { xmlns: NS_SERVER, from: env.from, to: env.to, id };
    if (env.kind === "subscription" || (env.type && env.type !== "unavailable")) {
      return xml("presence", { ...attrs, type: env.type }, ...presenceExtras(env));
    }
    const p = env.presence ? toXmppPresence(env.presence, profile, states) : env.type === "unavailable" ? { type: "unavailable" as const } : {};
    return xml(
      "presence",
      { ...attrs, type: p.type },
      p.show ? xml("show", {}, p.show) : undefined,
      p.status ? xml("status", {}, p.status) : undefined,
      env.presence?.priority !== undefined && p.type === undefined ? xml("priority", {}, String(env.presence.priority)) : undefined,
      ...presenceExtras(env),
    );
  }
  if (env.kind === "iq") return xmlWith("iq", { xmlns: NS_SERVER, from: env.from, to: env.to, id, type: env.type ?? "get" }, iqChildren(env));
  const type = env.kind === "groupchat" ? "groupchat" : env.type;
  return xmlWith("message", { xmlns: NS_SERVER, from: env.from, to: env.to, id, type }, messageChildren(env));
}
