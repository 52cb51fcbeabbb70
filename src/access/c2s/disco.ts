/**
 * XEP-0030 service discovery (the server's and an account's identity and
 * features) and XEP-0199 ping.
 */
import { StanzaError } from "../../xmpp/errors.js";
import { xml, type Element } from "../../xmpp/xml.js";
import { NS } from "./ns.js";
import type { C2sSession } from "./session.js";

export const SERVER_FEATURES = [NS.discoInfo, NS.discoItems, NS.ping, NS.carbons, NS.blocking, NS.roster];

export function discoIq(s: C2sSession, iq: Element, query: Element): void {
  if (iq.attrs.type !== "get") throw new StanzaError("bad-request", "disco is get only");
  if (query.attrs.node) throw new StanzaError("item-not-found");
  if (query.attrs.xmlns === NS.discoItems) return s.result(iq, xml("query", { xmlns: NS.discoItems }));
  const account = iq.attrs.to === s.bare || iq.attrs.to === s.full;
  const identity = account ? xml("identity", { category: "account", type: "registered" }) : xml("identity", { category: "server", type: "im", name: "demarc" });
  const features = account ? [NS.discoInfo] : SERVER_FEATURES;
  s.result(iq, xml("query", { xmlns: NS.discoInfo }, identity, ...features.map((v) => xml("feature", { var: v }))));
}

/** XEP-0199 section 4.2: a ping to the server is answered with an empty result. */
export function pingIq(s: C2sSession, iq: Element): void {
  if (iq.attrs.type !== "get") throw new StanzaError("bad-request");
  s.result(iq);
}
