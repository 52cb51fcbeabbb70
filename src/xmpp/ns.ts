/** XML namespaces of the stream protocols every XMPP stream speaks (RFC 6120, XEP-0220, XEP-0178, XEP-0199, XEP-0030). */
export const NS_SERVER = "jabber:server";
export const NS_CLIENT = "jabber:client";
export const NS_DIALBACK = "jabber:server:dialback";
export const NS_DIALBACK_FEATURE = "urn:xmpp:features:dialback";
export const NS_TLS = "urn:ietf:params:xml:ns:xmpp-tls";
export const NS_SASL = "urn:ietf:params:xml:ns:xmpp-sasl";
export const NS_BIND = "urn:ietf:params:xml:ns:xmpp-bind";
export const NS_SESSION = "urn:ietf:params:xml:ns:xmpp-session";
export const NS_PING = "urn:xmpp:ping";
export const NS_DISCO_INFO = "http://jabber.org/protocol/disco#info";
export { NS_STREAMS, NS_STREAM_ERRORS, NS_STANZA_ERRORS } from "./errors.js";
