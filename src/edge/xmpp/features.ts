/**
 * Stream features offered to an inbound peer (RFC 6120 section 4.3.2): TLS
 * first; on a TLS stream SASL EXTERNAL (XEP-0178) when the peer's certificate
 * already proves the domain it claims and that partner may use certificates;
 * dialback (XEP-0220 section 2.3.1) when that partner may use dialback.
 */
import { xml, type Element } from "../../xmpp/xml.js";
import { NS_DIALBACK_FEATURE, NS_SASL, NS_TLS } from "../../xmpp/ns.js";
import { InboundStreamManagement } from "./s2s-sm.js";

export interface FeatureState {
  secure: boolean;
  tlsAvailable: boolean;
  requireTls: boolean;
  /** SASL succeeded on this stream: after the restart nothing more is negotiated. */
  saslDone: boolean;
  offerExternal: boolean;
  offerDialback: boolean;
  /** XEP-0198, once the peer's domain is authenticated. */
  offerSm?: boolean | undefined;
}

export function inboundFeatures(s: FeatureState): Element {
  const features = xml("stream:features");
  if (!s.secure && s.tlsAvailable) {
    features.append(xml("starttls", { xmlns: NS_TLS }, s.requireTls ? xml("required") : undefined));
    // Section 5.3.1: when TLS is mandatory-to-negotiate, nothing else is offered before it.
    if (s.requireTls) return features;
  }
  if (s.offerSm) features.append(InboundStreamManagement.feature());
  if (s.saslDone) return features;
  if (s.offerExternal) features.append(xml("mechanisms", { xmlns: NS_SASL }, xml("mechanism", {}, "EXTERNAL")));
  if (s.offerDialback) features.append(xml("dialback", { xmlns: NS_DIALBACK_FEATURE }, xml("errors")));
  return features;
}
