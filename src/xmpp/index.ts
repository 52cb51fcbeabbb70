/**
 * The XMPP protocol library that every kind of XMPP stream uses: the guarded
 * parser, elements, stream and stanza errors, namespaces, and the stanza <->
 * Envelope translation. The s2s edge's implementations are re-exported from
 * here so the component link (and, as they move, c2s and s2s) depend on one
 * place instead of reaching into the s2s edge's files.
 */
export { XmppStreamParser, type StreamParserOptions } from "../edge/xmpp/stream-parser.js";
export { xml, escapeXML, escapeXMLText, type Element } from "../edge/xmpp/xml.js";
export { StreamError, StanzaError, mayReplyWithError, NS_STREAMS, type StreamCondition } from "../edge/xmpp/errors.js";
export { NS_SERVER, NS_DISCO_INFO, NS_PING } from "../edge/xmpp/ns.js";
export { newStreamId } from "../edge/xmpp/stream.js";
export { stanzaToEnvelope, envelopeToStanza } from "../edge/xmpp/translate.js";
export { isDomainIq, answerDomainIq } from "../edge/xmpp/domain-iq.js";
export * from "./component.js";
export * from "./component-envelope.js";
