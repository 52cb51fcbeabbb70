import { NS_BIND, NS_CLIENT, NS_DISCO_INFO, NS_PING, NS_SASL, NS_SESSION, NS_STANZA_ERRORS, NS_STREAMS, NS_TLS } from "../../xmpp/ns.js";

/** Namespaces the c2s listener speaks; the stream's own come from the XMPP library. */
export const NS = {
  client: NS_CLIENT,
  streams: NS_STREAMS,
  tls: NS_TLS,
  sasl: NS_SASL,
  bind: NS_BIND,
  session: NS_SESSION,
  roster: "jabber:iq:roster",
  ping: NS_PING,
  discoInfo: NS_DISCO_INFO,
  discoItems: "http://jabber.org/protocol/disco#items",
  carbons: "urn:xmpp:carbons:2",
  forward: "urn:xmpp:forward:0",
  hints: "urn:xmpp:hints",
  sm: "urn:xmpp:sm:3",
  blocking: "urn:xmpp:blocking",
  blockingErrors: "urn:xmpp:blocking:errors",
  delay: "urn:xmpp:delay",
  idle: "urn:xmpp:idle:1",
  stanzas: NS_STANZA_ERRORS,
} as const;
