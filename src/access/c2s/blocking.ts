/** XEP-0191 blocking command: the block list is the core's per-user list. */
import { StanzaError } from "../../xmpp/errors.js";
import { xml, type Element } from "../../xmpp/xml.js";
import { NS } from "./ns.js";
import type { C2sSession } from "./session.js";

export async function blockingIq(s: C2sSession, iq: Element, payload: Element): Promise<void> {
  if (payload.name === "blocklist") {
    if (iq.attrs.type !== "get") throw new StanzaError("bad-request");
    return s.result(iq, xml("blocklist", { xmlns: NS.blocking }, ...s.core.blockList().map((jid) => xml("item", { jid }))));
  }
  if (iq.attrs.type !== "set") throw new StanzaError("bad-request");
  const jids = payload.getChildren("item").map((i) => i.attrs.jid ?? "");
  if (jids.some((j) => j === "")) throw new StanzaError("bad-request", "an item needs a jid");
  // XEP-0191 section 3.3: a block without items is bad-request; an unblock without items unblocks all.
  if (payload.name === "block") {
    if (jids.length === 0) throw new StanzaError("bad-request", "nothing to block");
    await s.core.block(jids);
  } else {
    await s.core.unblock(jids);
  }
  s.result(iq);
}
