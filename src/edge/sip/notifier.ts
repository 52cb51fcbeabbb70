/**
 * Notifier side of SIP presence (RFC 3856, RFC 6665 4.2; RFC 8048 section 5):
 * a partner's watcher SUBSCRIBEs to one of our users. The SUBSCRIBE becomes an
 * XMPP subscribe through the router; the dialog stays pending until our user
 * approves ("subscribed"), then each presence the core sends to that watcher
 * becomes a NOTIFY with PIDF rendered for the partner's profile.
 */
import type { SipMessage } from "sip";
import { bareOf, type Envelope } from "../../model/envelope.js";
import type { RichPresence } from "../../model/presence.js";
import { jidToSip } from "../../mapping/address.js";
import { PIDF_TYPE, toPidf } from "../../mapping/pidf.js";
import type { Dialog, SubState } from "./dialogs.js";
import type { Respond, SipEdge } from "./edge.js";
import type { Flow } from "./flow.js";
import { addresses, refusal } from "./im.js";
import { header, response, token, warning } from "./message.js";
import { envelope, eventIsPresence, flowFor, inDialogRequest, routeQuiet, subscriptionState, type PresenceMemory } from "./presence-shared.js";

/** Sends a NOTIFY in a notifier dialog (RFC 6665 4.2.2); a 481 or timeout ends the dialog. */
export async function notify(edge: SipEdge, mem: PresenceMemory, d: Dialog, state: SubState, reason?: string): Promise<void> {
  const profile = edge.gate.profileOf(d.partnerDomain);
  const presence = mem.last.get(d.local) ?? { state: "offline" };
  let flow: Flow;
  try {
    flow = await flowFor(edge, d);
  } catch (err) {
    edge.log.warn({ domain: d.partnerDomain, err: (err as Error).message }, "cannot reach SIP watcher; subscription ended");
    edge.dialogs.remove(d);
    return;
  }
  const withBody = state === "active" || (state === "terminated" && reason === "timeout");
  const rq = inDialogRequest(
    edge,
    d,
    flow,
    "NOTIFY",
    { event: "presence", "subscription-state": subscriptionState(state, d, reason) },
    withBody ? { content: toPidf(d.localUri, presence, profile, edge.states()), type: PIDF_TYPE } : undefined,
  );
  if (state === "terminated") edge.dialogs.remove(d);
  try {
    const rs = await edge.client.send(rq, flow);
    if (rs.status === 481 || (rs.status! >= 300 && state !== "terminated")) edge.dialogs.remove(d);
  } catch {
    edge.dialogs.remove(d);
  }
}

function expiresOf(edge: SipEdge, rq: SipMessage): number | { min: number } {
  const s = edge.cfg.sip.subscriptions;
  const raw = header(rq, "expires");
  const n = raw === undefined ? s.default_expires_s : Number.parseInt(raw, 10);
  if (!Number.isFinite(n) || n < 0) return s.default_expires_s;
  // RFC 6665 4.2.1.1: too brief -> 423 with Min-Expires; too long -> shortened.
  if (n > 0 && n < s.min_expires_s) return { min: s.min_expires_s };
  return Math.min(n, s.max_expires_s);
}

export async function onSubscribe(edge: SipEdge, mem: PresenceMemory, rq: SipMessage, flow: Flow, respond: Respond): Promise<void> {
  if (!eventIsPresence(rq)) {
    respond(response(rq, 489, "Bad Event", { headers: { "allow-events": "presence" } }));
    return;
  }
  const accept = header(rq, "accept");
  if (accept && !accept.toLowerCase().includes(PIDF_TYPE) && !accept.includes("*/*")) {
    respond(response(rq, 406, "Not Acceptable", { headers: { accept: PIDF_TYPE } }));
    return;
  }
  const gate = edge.gate.check(rq, flow);
  if (!gate.ok) {
    respond(response(rq, gate.status, gate.reason, { headers: { warning: warning(edge.hostFor(), gate.text) } }));
    return;
  }
  const expires = expiresOf(edge, rq);
  if (typeof expires !== "number") {
    respond(response(rq, 423, "Interval Too Brief", { headers: { "min-expires": expires.min } }));
    return;
  }
  const toTag = rq.headers.to?.params.tag ?? undefined;
  if (toTag) return refresh(edge, mem, rq, toTag, expires, respond);

  const addr = addresses(edge, rq);
  if ("status" in addr) {
    respond(response(rq, addr.status, addr.reason));
    return;
  }
  const contact = Array.isArray(rq.headers.contact) ? rq.headers.contact[0]?.uri : undefined;
  const d: Dialog = {
    role: "notifier",
    callId: rq.headers["call-id"]!,
    localTag: token(6),
    remoteTag: rq.headers.from!.params.tag ?? undefined,
    local: addr.to,
    remote: addr.from,
    localUri: jidToSip(addr.to),
    remoteUri: rq.headers.from!.uri,
    remoteTarget: contact ?? rq.headers.from!.uri,
    partnerDomain: gate.domain,
    localCseq: 0,
    remoteCseq: rq.headers.cseq!.seq,
    state: "pending",
    expiresAt: 0,
    flow,
  };
  const pair = `${d.local}|${d.remote}`;
  // Until the 200 is sent, NOTIFYs wait: what the core says meanwhile only updates memory.
  const result = await edge.router.route(
    envelope(edge, addr.from, addr.to, gate.domain, { kind: "subscription", type: expires === 0 ? "unsubscribe" : "subscribe", security: gate.security }),
  );
  if (!result.delivered) {
    respond(refusal(rq, result.error, addr.toDomain));
    return;
  }
  if (!edge.dialogs.add(d)) {
    respond(response(rq, 503, "Service Unavailable", { headers: { "retry-after": 60 } }));
    return;
  }
  edge.dialogs.expireIn(d, expires, (x) => void notify(edge, mem, x, "terminated", "timeout"));
  respond(response(rq, 200, "OK", { toTag: d.localTag, headers: { expires, contact: `<${edge.contactFor(d.local.split("@")[0]!, flow)}>` } }));
  // RFC 6665 4.2.1.2: a NOTIFY follows every accepted SUBSCRIBE at once.
  if (expires === 0) await notify(edge, mem, d, "terminated", "timeout");
  else {
    d.state = mem.approved.has(pair) ? "active" : "pending";
    await notify(edge, mem, d, d.state);
  }
}

async function refresh(edge: SipEdge, mem: PresenceMemory, rq: SipMessage, toTag: string, expires: number, respond: Respond): Promise<void> {
  const d = edge.dialogs.get(rq.headers["call-id"]!, toTag);
  if (!d || d.role !== "notifier") {
    respond(response(rq, 481, "Call/Transaction Does Not Exist"));
    return;
  }
  if (rq.headers.cseq!.seq <= d.remoteCseq) {
    respond(response(rq, 500, "Server Internal Error", { headers: { "retry-after": 1 } }));
    return;
  }
  d.remoteCseq = rq.headers.cseq!.seq;
  if (expires === 0) {
    respond(response(rq, 200, "OK", { headers: { expires: 0 } }));
    routeQuiet(edge, envelope(edge, d.remote, d.local, d.partnerDomain, { kind: "subscription", type: "unsubscribe" }));
    await notify(edge, mem, d, "terminated", "timeout");
    return;
  }
  edge.dialogs.expireIn(d, expires, (x) => void notify(edge, mem, x, "terminated", "timeout"));
  respond(response(rq, 200, "OK", { headers: { expires } }));
  await notify(edge, mem, d, d.state);
}

/** Outbound presence from the core for a SIP watcher. */
export async function sendPresence(edge: SipEdge, mem: PresenceMemory, e: Envelope): Promise<void> {
  if (e.type === "probe") return; // SIP has no probe: the subscription carries the state.
  const local = bareOf(e.from);
  const remote = bareOf(e.to);
  const p: RichPresence = e.type === "unavailable" ? { state: "offline" } : (e.presence ?? { state: "available" });
  mem.last.set(local, p);
  mem.approved.add(`${local}|${remote}`);
  for (const d of edge.dialogs.find("notifier", local, remote)) {
    if (d.localCseq === 0) continue; // still being set up: its first NOTIFY will carry this
    d.state = "active";
    await notify(edge, mem, d, "active");
  }
}
