/**
 * The pieces of a client stream's negotiation that read no connection state
 * (RFC 6120 sections 4.3 and 4.7): our header, the checks of the client's
 * header, and the features offered at each stage.
 */
import { StreamError } from "../../xmpp/errors.js";
import { newStreamId, streamHeader } from "../../xmpp/stream-header.js";
import { xml, type Element } from "../../xmpp/xml.js";
import { NS } from "./ns.js";

/** RFC 6120 section 4.7: our side of the header, from the domain the client asked for. */
export function c2sHeader(from: string): string {
  return streamHeader(NS.client, { id: newStreamId(), from, version: "1.0", "xml:lang": "en" });
}

/**
 * What is wrong with a client's header, if anything: the namespace, a domain
 * served here (the same one after a restart), version 1.0 or later.
 */
export function headerError(a: Record<string, string>, to: string, domains: ReadonlySet<string>, current: string): StreamError | undefined {
  if (a.xmlns !== NS.client) return new StreamError("invalid-namespace", "this port serves jabber:client");
  if (!domains.has(to)) return new StreamError("host-unknown", to ? `${to} is not served here` : "no 'to' domain");
  if (!a.version || Number.parseFloat(a.version) < 1) return new StreamError("unsupported-version");
  if (current && to !== current) return new StreamError("host-unknown", "the domain changed on restart");
  return undefined;
}

export interface FeatureState {
  secure: boolean;
  requireTls: boolean;
  authenticated: boolean;
  /** SASL mechanisms on offer; asked only while the client is not authenticated. */
  mechanisms: () => string[];
}

/** RFC 6120 section 4.3.2: STARTTLS first where required, then SASL, then binding (with XEP-0198). */
export function streamFeatures(s: FeatureState): Element {
  const f = xml("stream:features");
  if (!s.secure) {
    f.append(xml("starttls", { xmlns: NS.tls }, s.requireTls ? xml("required") : undefined));
    if (s.requireTls) return f;
  }
  if (!s.authenticated) {
    f.append(xml("mechanisms", { xmlns: NS.sasl }, ...s.mechanisms().map((m) => xml("mechanism", {}, m))));
    return f;
  }
  f.append(xml("bind", { xmlns: NS.bind }), xml("session", { xmlns: NS.session }, xml("optional")), xml("sm", { xmlns: NS.sm }));
  return f;
}
