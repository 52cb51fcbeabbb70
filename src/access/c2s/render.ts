/**
 * Core events as jabber:client stanzas: messages (with XEP-0280 carbon wrapping
 * and XEP-0203 delay for stored ones), presence per RFC 6121 4.7 through the
 * rich-state mapping, subscription presence, roster and block-list pushes.
 */
import { xml, xmlWith, type Element } from "../../xmpp/xml.js";
import { messageChildren } from "../../xmpp/content-render.js";
import { stanzaIdOf } from "../../xmpp/translate.js";
import { toXmppPresence } from "../../mapping/xmpp-presence.js";
import type { StateMap } from "../../mapping/state-map.js";
import type { Envelope } from "../../model/envelope.js";
import type { RichPresence } from "../../model/presence.js";
import type { RosterItem } from "../../core/types.js";
import { NS } from "./ns.js";

/** Rendered from the content compliance decided (src/xmpp/content-render.ts), as on s2s. */
export function renderMessage(e: Envelope, to: string): Element {
  const id = stanzaIdOf(e);
  return xmlWith("message", { xmlns: NS.client, from: e.from, to, type: e.type === "normal" ? undefined : e.type, id }, messageChildren(e));
}

export function withDelay(msg: Element, e: Envelope, domain: string): Element {
  msg.append(xml("delay", { xmlns: NS.delay, from: domain, stamp: new Date(e.receivedAt).toISOString() }));
  return msg;
}

/** XEP-0280 section 5/6: the copy travels from the user's bare JID, wrapped in forwarded. */
export function renderCarbon(e: Envelope, kind: "sent" | "received", bare: string, to: string): Element {
  const inner = renderMessage(e, e.to);
  return xml("message", { xmlns: NS.client, from: bare, to, type: e.type }, xml(kind, { xmlns: NS.carbons }, xml("forwarded", { xmlns: NS.forward }, inner)));
}

export function presenceChildren(p: RichPresence, priority?: number, states?: StateMap): Element[] {
  const x = toXmppPresence(p, "xmpp-rich", states);
  const out: Element[] = [];
  if (x.show) out.push(xml("show", {}, x.show));
  if (x.status) out.push(xml("status", {}, x.status));
  if (priority !== undefined && priority !== 0) out.push(xml("priority", {}, String(priority)));
  return out;
}

export function renderPresence(from: string, to: string, type: string | undefined, p: RichPresence | undefined, states?: StateMap): Element {
  return xml("presence", { xmlns: NS.client, from, to, type }, ...(p && !type ? presenceChildren(p, undefined, states) : []));
}

export function rosterItem(i: RosterItem, removed = false): Element {
  return xml(
    "item",
    {
      jid: i.jid,
      name: i.name,
      subscription: removed ? "remove" : i.subscription,
      ask: !removed && i.ask ? "subscribe" : undefined,
      approved: !removed && i.approved ? "true" : undefined,
    },
    ...(removed ? [] : i.groups.map((g) => xml("group", {}, g))),
  );
}

export function renderRosterPush(to: string, id: string, item: RosterItem, removed: boolean): Element {
  return xml("iq", { xmlns: NS.client, type: "set", id, to }, xml("query", { xmlns: NS.roster }, rosterItem(item, removed)));
}

export function renderBlockPush(to: string, id: string, jids: string[], blocked: boolean): Element {
  return xml("iq", { xmlns: NS.client, type: "set", id, to }, xml(blocked ? "block" : "unblock", { xmlns: NS.blocking }, ...jids.map((jid) => xml("item", { jid }))));
}
