/**
 * RFC 6121 section 4 (presence) and 3 (subscriptions) from a client. A client's
 * show/status becomes a rich state through the shared mapping; "xa" or an
 * XEP-0319 <idle/> marks the device idle, which counts toward "idle on all clients".
 */
import { StanzaError } from "../../xmpp/errors.js";
import type { Element } from "../../xmpp/xml.js";
import { fromXmppPresence } from "../../mapping/xmpp-presence.js";
import type { RichPresence } from "../../model/presence.js";
import { isSubscriptionType } from "../../core/roster.js";
import { NS } from "./ns.js";
import type { C2sSession } from "./session.js";

export function richFromStanza(el: Element): { presence: RichPresence; priority: number } {
  const show = el.getChildText("show") ?? undefined;
  const status = el.getChildText("status") ?? undefined;
  const presence = fromXmppPresence({ type: el.attrs.type, show, status });
  if (presence.state === "away" && (show?.trim() === "xa" || el.getChild("idle", NS.idle))) presence.state = "idle";
  // RFC 6121 4.7.2.3: an integer from -128 to +127; anything else is treated as 0.
  const raw = el.getChildText("priority")?.trim();
  const n = raw !== undefined && /^[+-]?\d{1,3}$/.test(raw) ? Number(raw) : 0;
  return { presence, priority: Math.max(-128, Math.min(127, n)) };
}

export async function handlePresence(s: C2sSession, el: Element): Promise<void> {
  const type = el.attrs.type;
  const to = el.attrs.to;
  if (type === undefined || type === "unavailable") {
    const { presence, priority } = richFromStanza(el);
    if (to === undefined) return s.core.presence(presence, priority);
    return s.core.directed(to, type === "unavailable" ? undefined : presence);
  }
  if (isSubscriptionType(type)) {
    if (to === undefined) throw new StanzaError("bad-request", "a subscription request needs a 'to'");
    return s.core.subscription(to, type);
  }
  // RFC 6121 4.3: clients do not probe; errors from clients end here.
  if (type === "probe" || type === "error") return;
  throw new StanzaError("bad-request", `unknown presence type "${type}"`);
}
