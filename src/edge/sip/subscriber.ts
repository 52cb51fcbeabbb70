/**
 * Subscriber side of SIP presence (RFC 6665 4.1; RFC 8048 section 4): one of
 * our users subscribes to a partner's user. A SUBSCRIBE goes out and is
 * refreshed before it expires; the partner's NOTIFYs come back as XMPP
 * presence, and their Subscription-State as subscribed / unsubscribed.
 */
import type { SipMessage } from "sip";
import type { Envelope } from "../../model/envelope.js";
import type { RichPresence } from "../../model/presence.js";
import { DeliveryFailure } from "../../model/route.js";
import { jidToSip } from "../../mapping/address.js";
import { fromPidf, PIDF_TYPE, PidfError } from "../../mapping/pidf.js";
import { sipStatusToXmpp } from "../../mapping/sip-errors.js";
import type { Dialog } from "./dialogs.js";
import type { Respond, SipEdge } from "./edge.js";
import type { Flow } from "./flow.js";
import { binaryToUtf8, contentType, header, response, token, warning } from "./message.js";
import { envelope, eventIsPresence, flowFor, inDialogRequest, routeQuiet, type PresenceMemory } from "./presence-shared.js";

export async function sendSubscribe(edge: SipEdge, d: Dialog, expires: number): Promise<SipMessage> {
  const flow = await flowFor(edge, d);
  const rq = inDialogRequest(edge, d, flow, "SUBSCRIBE", { event: "presence", accept: PIDF_TYPE, expires });
  return edge.client.send(rq, flow);
}

/** Our user subscribes to a partner's user (RFC 8048 section 4.1: XMPP subscribe -> SIP SUBSCRIBE). */
export async function subscribeOut(edge: SipEdge, mem: PresenceMemory, domain: string, local: string, remote: string): Promise<void> {
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
      presence = fromPidf(binaryToUtf8(rq.content), gate.profile, edge.states());
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
