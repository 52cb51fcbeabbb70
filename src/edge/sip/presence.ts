/**
 * SIP presence (RFC 3856, RFC 6665) interworked with XMPP presence and
 * subscriptions per RFC 8048 (which obsoletes RFC 7248).
 *
 * Notifier side (a partner's watcher SUBSCRIBEs to one of our users): the
 * SUBSCRIBE becomes an XMPP subscribe through the router; the dialog stays
 * pending until our user approves ("subscribed"), then each presence the
 * core sends to that watcher becomes a NOTIFY with PIDF rendered for the
 * partner's profile. Subscriber side (our user subscribes to a partner's
 * user): a SUBSCRIBE goes out; the partner's NOTIFYs come back as XMPP
 * presence, and their Subscription-State as subscribed / unsubscribed.
 */
import type { SipMessage } from "sip";
import { bareOf, type Envelope } from "../../model/envelope.js";
import type { RichPresence } from "../../model/presence.js";
import { DeliveryFailure } from "../../pipeline/types.js";
import { jidToSip } from "../../mapping/address.js";
import { fromPidf, PIDF_TYPE, PidfError, toPidf } from "../../mapping/pidf.js";
import { sipStatusToXmpp } from "../../mapping/sip-errors.js";
import type { Dialog, SubState } from "./dialogs.js";
import type { Respond, SipEdge } from "./edge.js";
import type { Flow } from "./flow.js";
import { addresses, refusal } from "./im.js";
import { binaryToUtf8, contentType, header, request, response, token, warning } from "./message.js";

/** What the core last said about our users, and which watchers they approved. */
export class PresenceMemory {
  readonly last = new Map<string, RichPresence>();
  readonly approved = new Set<string>();
  /** Subscriber dialogs in the middle of being set up, per pair, to avoid duplicate SUBSCRIBEs. */
  readonly subscribing = new Set<string>();
}

function eventIsPresence(rq: SipMessage): boolean {
  return (header(rq, "event") ?? header(rq, "o") ?? "").split(";")[0]!.trim().toLowerCase() === "presence";
}

function subscriptionState(state: SubState, d: Dialog, reason?: string): string {
  if (state === "terminated") return `terminated;reason=${reason ?? "timeout"}`;
  return `${state};expires=${Math.max(0, Math.round((d.expiresAt - Date.now()) / 1000))}`;
}

async function flowFor(edge: SipEdge, d: Dialog): Promise<Flow> {
  if (d.flow && !d.flow.closed) return d.flow;
  d.flow = await edge.partnerFlow(d.partnerDomain);
  return d.flow;
}

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
  const rq = request({
    method: "NOTIFY",
    uri: d.remoteTarget,
    from: { uri: d.localUri, params: { tag: d.localTag } },
    to: { uri: d.remoteUri, params: d.remoteTag ? { tag: d.remoteTag } : {} },
    callId: d.callId,
    cseq: ++d.localCseq,
    via: edge.viaFor(flow),
    contact: edge.contactFor(d.local.split("@")[0]!, flow),
    headers: { event: "presence", "subscription-state": subscriptionState(state, d, reason) },
    ...(withBody ? { body: toPidf(d.localUri, presence, profile), contentType: PIDF_TYPE } : {}),
  });
  if (state === "terminated") edge.dialogs.remove(d);
  try {
    const rs = await edge.client.send(rq, flow);
    if (rs.status === 481 || (rs.status! >= 300 && state !== "terminated")) edge.dialogs.remove(d);
  } catch {
    edge.dialogs.remove(d);
  }
}

function routeQuiet(edge: SipEdge, e: Envelope): void {
  edge.router.route(e).then(
    (r) => {
      if (!r.delivered) edge.log.debug({ id: e.id, condition: r.error.condition }, "SIP presence not delivered");
    },
    (err: Error) => edge.log.warn({ id: e.id, err: err.message }, "SIP presence routing failed"),
  );
}

function envelope(edge: SipEdge, from: string, to: string, partnerDomain: string, fields: Partial<Envelope>): Envelope {
  return { id: edge.newId(), receivedAt: Date.now(), direction: "inbound", protocol: "sip", kind: "presence", from, to, partnerDomain, ...fields };
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
    respond(refusal(edge, rq, result.error, addr.toDomain));
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

export async function sendSubscription(edge: SipEdge, mem: PresenceMemory, e: Envelope): Promise<void> {
  const local = bareOf(e.from);
  const remote = bareOf(e.to);
  const pair = `${local}|${remote}`;
  switch (e.type) {
    case "subscribed":
      mem.approved.add(pair);
      for (const d of edge.dialogs.find("notifier", local, remote)) {
        if (d.localCseq === 0) continue;
        d.state = "active";
        await notify(edge, mem, d, "active");
      }
      return;
    case "unsubscribed":
      mem.approved.delete(pair);
      for (const d of edge.dialogs.find("notifier", local, remote)) await notify(edge, mem, d, "terminated", "rejected");
      return;
    case "subscribe":
      return subscribeOut(edge, mem, e.partnerDomain!, local, remote);
    case "unsubscribe":
      for (const d of edge.dialogs.find("subscriber", local, remote)) {
        edge.dialogs.remove(d);
        await sendSubscribe(edge, d, 0).catch(() => undefined);
      }
      return;
    default:
      return;
  }
}

async function sendSubscribe(edge: SipEdge, d: Dialog, expires: number): Promise<SipMessage> {
  const flow = await flowFor(edge, d);
  const rq = request({
    method: "SUBSCRIBE",
    uri: d.remoteTarget,
    from: { uri: d.localUri, params: { tag: d.localTag } },
    to: { uri: d.remoteUri, params: d.remoteTag ? { tag: d.remoteTag } : {} },
    callId: d.callId,
    cseq: ++d.localCseq,
    via: edge.viaFor(flow),
    contact: edge.contactFor(d.local.split("@")[0]!, flow),
    headers: { event: "presence", accept: PIDF_TYPE, expires },
  });
  return edge.client.send(rq, flow);
}

/** Our user subscribes to a partner's user (RFC 8048 section 4.1: XMPP subscribe -> SIP SUBSCRIBE). */
async function subscribeOut(edge: SipEdge, mem: PresenceMemory, domain: string, local: string, remote: string): Promise<void> {
  const pair = `${local}|${remote}`;
  if (edge.dialogs.find("subscriber", local, remote).length || mem.subscribing.has(pair)) return;
  let localUri: string;
  let remoteUri: string;
  try {
    localUri = jidToSip(local);
    remoteUri = jidToSip(remote);
  } catch (err) {
    throw new DeliveryFailure({ condition: "jid-malformed", type: "modify", text: (err as Error).message });
  }
  const d: Dialog = {
    role: "subscriber",
    callId: `${token(12)}@${edge.hostFor(local.split("@")[1])}`,
    localTag: token(6),
    local,
    remote,
    localUri,
    remoteUri,
    remoteTarget: remoteUri,
    partnerDomain: domain,
    localCseq: 0,
    remoteCseq: 0,
    state: "pending",
    expiresAt: 0,
  };
  // The dialog exists before the SUBSCRIBE leaves: its first NOTIFY may beat the 200 (RFC 6665 4.1.2.4).
  if (!edge.dialogs.add(d)) throw new DeliveryFailure({ condition: "resource-constraint", type: "wait" });
  mem.subscribing.add(pair);
  try {
    const expires = edge.cfg.sip.subscriptions.default_expires_s;
    let rs: SipMessage;
    try {
      rs = await sendSubscribe(edge, d, expires);
    } catch (err) {
      edge.dialogs.remove(d);
      throw new DeliveryFailure({ condition: "remote-server-not-found", type: "cancel", text: (err as Error).message });
    }
    if (rs.status! >= 300) {
      edge.dialogs.remove(d);
      // RFC 8048 section 4.1: a refused SUBSCRIBE is an XMPP unsubscribed for the user.
      routeQuiet(edge, envelope(edge, remote, local, domain, { kind: "subscription", type: "unsubscribed" }));
      edge.log.debug({ status: rs.status, domain }, "SIP partner refused SUBSCRIBE");
      throw new DeliveryFailure(sipStatusToXmpp(rs.status!, rs.reason));
    }
    d.remoteTag ??= rs.headers.to?.params.tag ?? undefined;
    const contact = Array.isArray(rs.headers.contact) ? rs.headers.contact[0]?.uri : undefined;
    if (contact) d.remoteTarget = contact;
    const granted = Number.parseInt(header(rs, "expires") ?? String(expires), 10) || expires;
    scheduleRefresh(edge, d, granted);
  } finally {
    mem.subscribing.delete(pair);
  }
}

function scheduleRefresh(edge: SipEdge, d: Dialog, seconds: number): void {
  // RFC 6665 4.1.2.1: refresh before expiry; at 80% leaves time for a retransmission.
  edge.dialogs.expireIn(
    d,
    seconds,
    (x) => {
      if (x.state === "terminated") return;
      // Ask for the configured duration again; the notifier may grant less (RFC 6665 4.2.1.1).
      const wanted = edge.cfg.sip.subscriptions.default_expires_s;
      sendSubscribe(edge, x, wanted).then(
        (rs) => {
          if (rs.status! >= 300) edge.dialogs.remove(x);
          else scheduleRefresh(edge, x, Number.parseInt(header(rs, "expires") ?? String(wanted), 10) || wanted);
        },
        () => edge.dialogs.remove(x),
      );
    },
    0.8,
  );
}

export async function onNotify(edge: SipEdge, mem: PresenceMemory, rq: SipMessage, flow: Flow, respond: Respond): Promise<void> {
  if (!eventIsPresence(rq)) {
    respond(response(rq, 489, "Bad Event", { headers: { "allow-events": "presence" } }));
    return;
  }
  const d = edge.dialogs.get(rq.headers["call-id"]!, rq.headers.to?.params.tag ?? undefined);
  if (!d || d.role !== "subscriber") {
    respond(response(rq, 481, "Subscription Does Not Exist"));
    return;
  }
  const gate = edge.gate.check(rq, flow);
  if (!gate.ok || gate.domain !== d.partnerDomain) {
    respond(response(rq, 403, "Forbidden"));
    return;
  }
  d.remoteTag ??= rq.headers.from?.params.tag ?? undefined;
  let presence: RichPresence | undefined;
  if (rq.content) {
    if (contentType(rq) !== PIDF_TYPE) {
      respond(response(rq, 415, "Unsupported Media Type", { headers: { accept: PIDF_TYPE } }));
      return;
    }
    try {
      presence = fromPidf(binaryToUtf8(rq.content), gate.profile);
    } catch (err) {
      if (err instanceof PidfError) {
        respond(response(rq, 400, "Bad Request", { headers: { warning: warning(edge.hostFor(), err.message) } }));
        return;
      }
      throw err;
    }
  }
  const stateHeader = (header(rq, "subscription-state") ?? "active").toLowerCase();
  const state = stateHeader.split(";")[0]!.trim();
  const reason = /reason=([a-z-]+)/.exec(stateHeader)?.[1];
  respond(response(rq, 200, "OK"));

  if (state === "active" && d.state !== "active") {
    d.state = "active";
    routeQuiet(edge, envelope(edge, d.remote, d.local, d.partnerDomain, { kind: "subscription", type: "subscribed", security: gate.security }));
  }
  if (presence) {
    const fields: Partial<Envelope> = presence.state === "offline" ? { type: "unavailable", presence } : { presence };
    routeQuiet(edge, envelope(edge, d.remote, d.local, d.partnerDomain, { ...fields, security: gate.security }));
  }
  if (state === "terminated") {
    edge.dialogs.remove(d);
    // RFC 6665 4.1.3: rejected / noresource / giveup are final; the others invite a new SUBSCRIBE.
    if (reason === "rejected" || reason === "noresource" || reason === "giveup") {
      routeQuiet(edge, envelope(edge, d.remote, d.local, d.partnerDomain, { kind: "subscription", type: "unsubscribed" }));
    } else {
      subscribeOut(edge, mem, d.partnerDomain, d.local, d.remote).catch(() => undefined);
    }
  }
}
