/**
 * What the SIP presence handlers share: the memory of what the core said,
 * and small helpers for dialogs and envelopes (RFC 6665, RFC 8048).
 */
import type { SipMessage } from "sip";
import type { Envelope } from "../../model/envelope.js";
import type { RichPresence } from "../../model/presence.js";
import type { Dialog, SubState } from "./dialogs.js";
import type { SipEdge } from "./edge.js";
import type { Flow } from "./flow.js";
import { header, request } from "./message.js";

/** What the core last said about our users, and which watchers they approved. */
export class PresenceMemory {
  readonly last = new Map<string, RichPresence>();
  readonly approved = new Set<string>();
  /** Subscriber dialogs in the middle of being set up, per pair, to avoid duplicate SUBSCRIBEs. */
  readonly subscribing = new Set<string>();
}

export function eventIsPresence(rq: SipMessage): boolean {
  return (header(rq, "event") ?? header(rq, "o") ?? "").split(";")[0]!.trim().toLowerCase() === "presence";
}

export function subscriptionState(state: SubState, d: Dialog, reason?: string): string {
  if (state === "terminated") return `terminated;reason=${reason ?? "timeout"}`;
  return `${state};expires=${Math.max(0, Math.round((d.expiresAt - Date.now()) / 1000))}`;
}

export async function flowFor(edge: SipEdge, d: Dialog): Promise<Flow> {
  if (d.flow && !d.flow.closed) return d.flow;
  d.flow = await edge.partnerFlow(d.partnerDomain);
  return d.flow;
}

/** A request inside a dialog (RFC 3261 section 12.2.1.1): its route set, tags, Call-ID and next CSeq. */
export function inDialogRequest(
  edge: SipEdge,
  d: Dialog,
  flow: Flow,
  method: "NOTIFY" | "SUBSCRIBE",
  headers: Record<string, string | number>,
  body?: { content: string; type: string },
): SipMessage {
  return request({
    method,
    uri: d.remoteTarget,
    from: { uri: d.localUri, params: { tag: d.localTag } },
    to: { uri: d.remoteUri, params: d.remoteTag ? { tag: d.remoteTag } : {} },
    callId: d.callId,
    cseq: ++d.localCseq,
    via: edge.viaFor(flow),
    contact: edge.contactFor(d.local.split("@")[0]!, flow),
    headers,
    ...(body ? { body: body.content, contentType: body.type } : {}),
  });
}

export function routeQuiet(edge: SipEdge, e: Envelope): void {
  edge.router.route(e).then(
    (r) => {
      if (!r.delivered) edge.log.debug({ id: e.id, condition: r.error.condition }, "SIP presence not delivered");
    },
    (err: Error) => edge.log.warn({ id: e.id, err: err.message }, "SIP presence routing failed"),
  );
}

export function envelope(edge: SipEdge, from: string, to: string, partnerDomain: string, fields: Partial<Envelope>): Envelope {
  return { id: edge.newId(), receivedAt: Date.now(), direction: "inbound", protocol: "sip", kind: "presence", from, to, partnerDomain, ...fields };
}
