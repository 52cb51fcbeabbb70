/**
 * RFC 6121 section 2: roster get and set. A set carries exactly one item
 * (2.3.3); a roster is only the user's own (2.1.5: anything else is forbidden).
 */
import { StanzaError } from "../../xmpp/errors.js";
import { xml, type Element } from "../../xmpp/xml.js";
import { NS } from "./ns.js";
import { rosterItem } from "./render.js";
import type { C2sSession } from "./session.js";

export async function rosterIq(s: C2sSession, iq: Element, query: Element): Promise<void> {
  const to = iq.attrs.to;
  if (to !== undefined && to !== s.bare && to !== s.full) throw new StanzaError("forbidden", "a roster is only its owner's");
  if (iq.attrs.type === "get") {
    s.result(iq, xml("query", { xmlns: NS.roster }, ...s.core.roster().map((i) => rosterItem(i))));
    return;
  }
  const items = query.getChildren("item");
  if (items.length !== 1 || query.getChildElements().length !== 1) throw new StanzaError("bad-request", "a roster set carries exactly one item");
  const item = items[0]!;
  const jid = item.attrs.jid;
  if (!jid) throw new StanzaError("bad-request", "the item needs a jid");
  if (item.attrs.subscription === "remove") {
    await s.core.rosterRemove(jid);
    return s.result(iq);
  }
  const groups = item.getChildren("group").map((g) => g.getText());
  // RFC 6121 2.3.3: empty or duplicate group names are refused.
  if (groups.some((g) => g.trim() === "")) throw new StanzaError("not-acceptable", "empty group name");
  if (new Set(groups).size !== groups.length) throw new StanzaError("bad-request", "duplicate group");
  if ((item.attrs.name ?? "").length > 1024 || groups.some((g) => g.length > 1024)) throw new StanzaError("not-acceptable", "name too long");
  await s.core.rosterSet(jid, item.attrs.name, groups);
  s.result(iq);
}
