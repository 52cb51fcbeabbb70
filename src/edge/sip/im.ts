/**
 * Page-mode instant messages (RFC 3428) translated to and from XMPP messages
 * per RFC 7572. Inbound: a text/* MESSAGE body (text-body.ts) -> Envelope -> router (compliance, archive,
 * delivery) -> 200, or the mapped error; a compliance block is 403 with a
 * Warning (RFC 3261 20.43, code 399) carrying the rule's text. Outbound: an
 * Envelope for a SIP partner -> MESSAGE in its own transaction, with the
 * body as compliance decided it (text/plain: SIMPLE has no place for the
 * other parts, which stay behind), with the
 * partner's final response mapped back to an XMPP condition.
 */
import type { SipMessage } from "sip";
import type { Envelope } from "../../model/envelope.js";
import { DeliveryFailure } from "../../model/route.js";
import { AddressError, jidToSip, sipDomain, sipToJid } from "../../mapping/address.js";
import { sipStatusToXmpp, xmppErrorToSip } from "../../mapping/sip-errors.js";
import type { Flow } from "./flow.js";
import { contentType, header, request, response, token, warning } from "./message.js";
import { readTextBody, TEXT_TYPES } from "./text-body.js";
import type { Respond, SipEdge } from "./edge.js";
import { TransactionTimeout } from "./transactions.js";

/** RFC 3994 typing notifications: acknowledged, not carried (no XMPP chat-state mapping here). */
const IS_COMPOSING = "application/im-iscomposing+xml";

/** Shared by MESSAGE and SUBSCRIBE: who from, who to, or the response that says why not. */
export function addresses(edge: SipEdge, rq: SipMessage): { from: string; to: string; toDomain: string } | { status: number; reason: string } {
  const toDomain = sipDomain(rq.uri ?? "");
  if (!toDomain) return { status: 416, reason: "Unsupported URI Scheme" };
  if (!edge.gate.isHosted(toDomain)) return { status: 404, reason: "Not Found" };
  try {
    return { from: sipToJid(rq.headers.from!.uri), to: sipToJid(rq.uri!), toDomain };
  } catch (err) {
    if (err instanceof AddressError) return { status: 484, reason: "Address Incomplete" };
    throw err;
  }
}

/** A RouteResult error as the SIP response to send. */
export function refusal(rq: SipMessage, error: { condition: string; text?: string | undefined }, host: string): SipMessage {
  const { status, reason } = xmppErrorToSip(error.condition);
  const headers: Record<string, string> = {};
  if (error.text) headers.warning = warning(host, error.text);
  return response(rq, status, reason, { headers });
}

export async function onMessage(edge: SipEdge, rq: SipMessage, flow: Flow, respond: Respond): Promise<void> {
  const gate = edge.gate.check(rq, flow);
  if (!gate.ok) {
    respond(response(rq, gate.status, gate.reason, { headers: { warning: warning(edge.hostFor(), gate.text) } }));
    return;
  }
  const addr = addresses(edge, rq);
  if ("status" in addr) {
    respond(response(rq, addr.status, addr.reason));
    return;
  }
  if (!rq.content) {
    respond(response(rq, 400, "Empty Message"));
    return;
  }
  const type = contentType(rq);
  if (type === IS_COMPOSING) {
    respond(response(rq, 200, "OK"));
    return;
  }
  const read = readTextBody(header(rq, "content-type"), rq.content);
  if ("status" in read) {
    // RFC 3428 section 7: unsupported bodies get 415 with the types we take.
    respond(response(rq, 415, read.reason, { headers: { accept: TEXT_TYPES.join(", ") } }));
    return;
  }
  const envelope: Envelope = {
    id: edge.newId(),
    receivedAt: Date.now(),
    direction: "inbound",
    protocol: "sip",
    kind: "message",
    from: addr.from,
    to: addr.to,
    partnerDomain: gate.domain,
    // RFC 7572 section 5: page-mode IM is a chat message.
    type: "chat",
    body: read.text,
    subject: typeof rq.headers.subject === "string" ? rq.headers.subject : undefined,
    security: gate.security,
  };
  const result = await edge.laneFor(flow).route(envelope);
  if (result.delivered) respond(response(rq, 200, "OK"));
  else respond(refusal(rq, result.error, addr.toDomain));
}

/** Sends an outbound chat message to a SIP partner. */
export async function sendMessage(edge: SipEdge, e: Envelope): Promise<void> {
  if (e.type === "error" || e.type === "groupchat") return; // RFC 7572 section 5: no SIP counterpart
  if (!e.body) return;
  const domain = e.partnerDomain!;
  let from: string;
  let to: string;
  try {
    from = jidToSip(e.from);
    to = jidToSip(e.to);
  } catch (err) {
    throw new DeliveryFailure({ condition: "jid-malformed", type: "modify", text: (err as Error).message });
  }
  let flow: Flow;
  try {
    flow = await edge.partnerFlow(domain);
  } catch (err) {
    edge.log.warn({ domain, err: (err as Error).message }, "no SIP route to partner");
    throw new DeliveryFailure({ condition: "remote-server-not-found", type: "cancel" });
  }
  const rq = request({
    method: "MESSAGE",
    uri: to,
    from: { uri: from, params: { tag: token(6) } },
    to: { uri: to, params: {} },
    callId: `${token(12)}@${edge.hostFor(e.from.split("@")[1])}`,
    cseq: 1,
    via: edge.viaFor(flow),
    body: e.body,
    headers: e.subject ? { subject: e.subject } : undefined,
  });
  let rs: SipMessage;
  try {
    rs = await edge.client.send(rq, flow);
  } catch (err) {
    if (err instanceof TransactionTimeout) throw new DeliveryFailure({ condition: "remote-server-timeout", type: "wait" });
    throw new DeliveryFailure({ condition: "remote-server-not-found", type: "cancel", text: (err as Error).message });
  }
  if (rs.status! >= 300) throw new DeliveryFailure(sipStatusToXmpp(rs.status!, rs.reason));
}
