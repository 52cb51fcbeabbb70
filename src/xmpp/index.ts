/**
 * The XMPP protocol library every kind of XMPP stream uses (s2s in
 * src/edge/xmpp, c2s in src/access/c2s, both ends of the component link): the
 * guarded parser, elements, stream headers, stream and stanza errors,
 * namespaces, the server side of TLS (SNI, STARTTLS), the per-address stream
 * count, and the stanza <-> Envelope translation with its content read and
 * render. What only one kind of stream needs (dialback, SASL EXTERNAL, the
 * outbound pool; SCRAM, rosters, stream management) stays with it.
 */
export { XmppStreamParser, type StreamParserOptions } from "./stream-parser.js";
export { xml, escapeXML, escapeXMLText, type Element } from "./xml.js";
export { StreamError, StanzaError, mayReplyWithError, NS_STREAMS, type StreamCondition } from "./errors.js";
export * from "./ns.js";
export { newStreamId, streamHeader, refuseStream, STREAM_CLOSE } from "./stream-header.js";
export { stanzaToEnvelope, envelopeToStanza } from "./translate.js";
export { isDomainIq, answerDomainIq } from "./domain-iq.js";
export { ServerTls, type ServerTlsOptions } from "./tls.js";
export { AddressCounter } from "./address-counter.js";
export * from "./component.js";
export * from "./component-envelope.js";
