/**
 * SIP presence interworked with XMPP presence and subscriptions (RFC 3856,
 * RFC 6665, RFC 8048 which obsoletes RFC 7248): the router's outbound
 * subscription envelopes, dispatched to the notifier side (our users'
 * watchers on SIP, src/edge/sip/notifier.ts) or the subscriber side (our
 * users watching SIP users, src/edge/sip/subscriber.ts).
 */
import { bareOf, type Envelope } from "../../model/envelope.js";
import type { SipEdge } from "./edge.js";
import { notify } from "./notifier.js";
import { sendSubscribe, subscribeOut } from "./subscriber.js";
import type { PresenceMemory } from "./presence-shared.js";

export { PresenceMemory } from "./presence-shared.js";
export { notify, onSubscribe, sendPresence } from "./notifier.js";
export { onNotify } from "./subscriber.js";

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
