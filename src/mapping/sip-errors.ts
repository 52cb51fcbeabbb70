/**
 * Error conditions between XMPP and SIP (RFC 7572 section 7 for IM; RFC 8048
 * for presence, which obsoletes RFC 7248), both ways, in one table each.
 * policy-violation (RFC 6120 8.3.3.12, newer than RFC 7572's table) is a 403.
 */
import type { DeliveryError } from "../model/route.js";

export interface SipStatus {
  status: number;
  reason: string;
}

const XMPP_TO_SIP: Record<string, SipStatus> = {
  "bad-request": { status: 400, reason: "Bad Request" },
  conflict: { status: 400, reason: "Bad Request" },
  "feature-not-implemented": { status: 405, reason: "Method Not Allowed" },
  forbidden: { status: 403, reason: "Forbidden" },
  gone: { status: 410, reason: "Gone" },
  "internal-server-error": { status: 500, reason: "Server Internal Error" },
  "item-not-found": { status: 404, reason: "Not Found" },
  "jid-malformed": { status: 484, reason: "Address Incomplete" },
  "not-acceptable": { status: 406, reason: "Not Acceptable" },
  "not-allowed": { status: 405, reason: "Method Not Allowed" },
  "not-authorized": { status: 401, reason: "Unauthorized" },
  "payment-required": { status: 402, reason: "Payment Required" },
  "policy-violation": { status: 403, reason: "Forbidden" },
  "recipient-unavailable": { status: 480, reason: "Temporarily Unavailable" },
  redirect: { status: 302, reason: "Moved Temporarily" },
  "registration-required": { status: 407, reason: "Proxy Authentication Required" },
  "remote-server-not-found": { status: 404, reason: "Not Found" },
  "remote-server-timeout": { status: 408, reason: "Request Timeout" },
  "resource-constraint": { status: 500, reason: "Server Internal Error" },
  "service-unavailable": { status: 503, reason: "Service Unavailable" },
  "subscription-required": { status: 403, reason: "Forbidden" },
  "undefined-condition": { status: 500, reason: "Server Internal Error" },
  "unexpected-request": { status: 491, reason: "Request Pending" },
};

export function xmppErrorToSip(condition: string): SipStatus {
  return XMPP_TO_SIP[condition] ?? { status: 500, reason: "Server Internal Error" };
}

const SIP_TO_XMPP: Record<number, [string, DeliveryError["type"]]> = {
  400: ["bad-request", "modify"],
  401: ["not-authorized", "auth"],
  402: ["payment-required", "auth"],
  403: ["forbidden", "auth"],
  404: ["item-not-found", "cancel"],
  405: ["not-allowed", "cancel"],
  406: ["not-acceptable", "modify"],
  407: ["registration-required", "auth"],
  408: ["remote-server-timeout", "wait"],
  410: ["gone", "cancel"],
  413: ["policy-violation", "modify"],
  414: ["jid-malformed", "modify"],
  415: ["not-acceptable", "modify"],
  416: ["jid-malformed", "modify"],
  420: ["feature-not-implemented", "cancel"],
  480: ["recipient-unavailable", "wait"],
  481: ["item-not-found", "cancel"],
  482: ["not-acceptable", "cancel"],
  483: ["not-acceptable", "cancel"],
  484: ["jid-malformed", "modify"],
  485: ["item-not-found", "cancel"],
  486: ["recipient-unavailable", "wait"],
  488: ["not-acceptable", "modify"],
  489: ["feature-not-implemented", "cancel"],
  491: ["unexpected-request", "wait"],
  500: ["internal-server-error", "wait"],
  501: ["feature-not-implemented", "cancel"],
  502: ["remote-server-not-found", "cancel"],
  503: ["service-unavailable", "wait"],
  504: ["remote-server-timeout", "wait"],
  513: ["policy-violation", "modify"],
  603: ["service-unavailable", "cancel"],
  604: ["item-not-found", "cancel"],
  606: ["not-acceptable", "cancel"],
};

/** A final non-2xx SIP response -> the XMPP condition for the sender. */
export function sipStatusToXmpp(status: number, reason?: string): DeliveryError {
  const hit = SIP_TO_XMPP[status];
  const text = reason ? `${status} ${reason}` : String(status);
  if (hit) return { condition: hit[0], type: hit[1], text };
  if (status >= 300 && status < 400) return { condition: "redirect", type: "modify", text };
  if (status >= 600) return { condition: "service-unavailable", type: "cancel", text };
  if (status >= 500) return { condition: "internal-server-error", type: "wait", text };
  return { condition: "undefined-condition", type: "cancel", text };
}
