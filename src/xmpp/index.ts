/**
 * The XMPP protocol library that every kind of XMPP stream uses: the guarded
 * parser, elements, stream and stanza errors, namespaces, and the stanza <->
 * Envelope translation. The s2s edge's implementations are re-exported from
 * here so the component link (and, as they move, c2s and s2s) depend on one
 * place instead of reaching into the s2s edge's files.
 */
export { XmppStreamParser, type StreamParserOptions } from "./stream-parser.js";
export { xml, escapeXML, escapeXMLText, type Element } from "./xml.js";
export { StreamError, StanzaError, mayReplyWithError, NS_STREAMS, type StreamCondition } from "./errors.js";
export { NS_SERVER, NS_DISCO_INFO, NS_PING } from "./ns.js";
export { newStreamId, streamHeader, refuseStream, STREAM_CLOSE } from "./stream-header.js";
export { stanzaToEnvelope, envelopeToStanza } from "./translate.js";
export { isDomainIq, answerDomainIq } from "./domain-iq.js";
export * from "./component.js";
export * from "./component-envelope.js";
