/**
 * Component stanzas <-> the canonical Envelope, through the same translation
 * the s2s edge uses; only what differs on a component stream is done here:
 * the stanza namespace (XEP-0114: jabber:component:accept) and the direction
 * (what an internal server hands a component leaves for a partner, and what
 * the edge hands demarc's core arrives from one).
 */
import type { StateMap } from "../mapping/state-map.js";
import type { Envelope, SecurityContext } from "../model/envelope.js";
import type { XmppProfile } from "../mapping/xmpp-presence.js";
import { envelopeToStanza, stanzaToEnvelope } from "./translate.js";
import type { Element } from "./xml.js";
import { NS_COMPONENT } from "./component.js";

/** An internal user's stanza to a partner, received on the component stream for `partnerDomain`. */
export function componentStanzaToEnvelope(el: Element, partnerDomain: string, security: SecurityContext): Envelope {
  const env = stanzaToEnvelope(el, partnerDomain, security);
  env.direction = "outbound";
  return env;
}

/** A partner's stanza for an internal user, as the component sends it to the internal server. */
export function envelopeToComponentStanza(env: Envelope, profile: XmppProfile, states?: StateMap): Element {
  return inComponentNamespace(envelopeToStanza(env, profile, states));
}

/** Stanzas on a component stream are qualified by its namespace, not jabber:server (XEP-0114 section 3). */
export function inComponentNamespace(el: Element): Element {
  el.attrs.xmlns = NS_COMPONENT;
  return el;
}
