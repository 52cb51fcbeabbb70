/** XEP-0280 section 4: a resource enables or disables carbons for itself. */
import { StanzaError } from "../../xmpp/errors.js";
import type { Element } from "../../xmpp/xml.js";
import type { C2sSession } from "./session.js";

export function carbonsIq(s: C2sSession, iq: Element, payload: Element): void {
  if (iq.attrs.type !== "set") throw new StanzaError("bad-request", "carbons are enabled with a set");
  s.core.carbons(payload.name === "enable");
  s.result(iq);
}
