/**
 * Core events as jabber:client stanzas: messages (with XEP-0280 carbon wrapping
 * and XEP-0203 delay for stored ones), presence per RFC 6121 4.7 through the
 * rich-state mapping, subscription presence, roster and block-list pushes.
 */
import { Parser, xml, type Element } from "../../edge/xmpp/xml.js";
import { toXmppPresence } from "../../mapping/xmpp-presence.js";
import type { Envelope } from "../../model/envelope.js";
import type { RichPresence } from "../../model/presence.js";
import type { RosterItem } from "../../core/types.js";
import { NS } from "./ns.js";

/** Payload children copied from the original stanza (chat states, receipts...); the core owns body/subject/thread. */
const OWNED = new Set(["body", "subject", "thread", "error"]);

function parseOriginal(original: string | undefined): Element | undefined {
  if (!original || original.length > 1_000_000) return undefined;
  try {
    const p = new Parser();
    let out: Element | undefined;
    p.on("element", (el) => (out = el));
    p.on("start", (el) => (out = el));
    p.write(`<x xmlns='${NS.client}'>${original}</x>`);
    return out?.name === "x" ? out.getChildElements()[0] : out;
  } catch {
    return undefined;
  }
}

export function renderMessage(e: Envelope, to: string): Element {
  const orig = parseOriginal(e.original);
  const sameBody = !orig || (orig.getChildText("body") ?? undefined) === e.body;
  const msg = xml("message", { xmlns: NS.client, from: e.from, to, type: e.type === "normal" ? undefined : e.type, id: orig?.attrs.id });
  if (e.subject !== undefined) msg.append(xml("subject", {}, e.subject));
  if (e.body !== undefined) msg.append(xml("body", {}, e.body));
  if (e.thread !== undefined) msg.append(xml("thread", {}, e.thread));
  // Extensions only ride along when compliance left the body as written.
  if (orig && sameBody) for (const c of orig.getChildElements()) if (!OWNED.has(c.name) && c.attrs.xmlns !== NS.carbons) msg.append(c);
  // RFC 6120 section 8.3.1: an error stanza carries its <error/>, e.g. a partner-side refusal relayed by an edge.
  const error = e.type === "error" ? orig?.getChild("error") : undefined;
  if (error) msg.append(error);
  return msg;
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

export function presenceChildren(p: RichPresence, priority?: number): Element[] {
  const x = toXmppPresence(p, "xmpp-rich");
  const out: Element[] = [];
  if (x.show) out.push(xml("show", {}, x.show));
  if (x.status) out.push(xml("status", {}, x.status));
  if (priority !== undefined && priority !== 0) out.push(xml("priority", {}, String(priority)));
  return out;
}

export function renderPresence(from: string, to: string, type: string | undefined, p: RichPresence | undefined): Element {
  return xml("presence", { xmlns: NS.client, from, to, type }, ...(p && !type ? presenceChildren(p) : []));
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
