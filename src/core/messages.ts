/**
 * RFC 6121 section 8.5 message delivery for hosted users, with the design
 * guide's multi-device routing and XEP-0280 carbons:
 * - to a bare JID, the first message of a conversation goes to every available
 *   resource with non-negative priority; once the user answers from one
 *   resource, later messages from that peer go to that resource only, until
 *   the user writes to the peer from another one;
 * - nobody available: chat and normal messages are stored offline (8.5.2.1.1
 *   allows it) and delivered at the next login;
 * - XEP-0280 section 6: chat messages are copied to the user's other resources
 *   that enabled carbons, both sent and received, unless marked private.
 */
import { bareOf } from "../model/envelope.js";
import type { Envelope } from "../model/envelope.js";
import { DeliveryFailure } from "../model/route.js";
import type { DeliveryReceipt } from "../model/outcome.js";

/** What the router files as the outcome when nobody could take the message now. */
const STORED_OFFLINE: DeliveryReceipt = { outcome: "stored-offline" };
const DISCARDED: DeliveryReceipt = { outcome: "discarded" };
import type { Shared } from "./shared.js";
import type { Device, UserState } from "./user.js";

/** XEP-0280 section 6: which message types are carbon-copied. */
function carbonEligible(e: Envelope): boolean {
  return (e.type ?? "normal") === "chat" && !e.tags?.includes("carbons:private");
}

export class MessageService {
  constructor(private readonly s: Shared) {}

  /** Writing from a resource pins the conversation with that peer to it. */
  pin(d: Device, to: string): void {
    d.user.pins.set(bareOf(to), d.resource);
  }

  /** A message the device sent was delivered: copy it to the user's other carbon resources. */
  sent(d: Device, e: Envelope): void {
    const u = d.user;
    if (carbonEligible(e)) {
      for (const other of u.devices.values()) {
        if (other !== d && other.carbons && other.available) this.s.push(other, { kind: "message", envelope: e, carbon: "sent" });
      }
    }
  }

  /** Delivery to a hosted user after compliance and archive (the router's internal target). */
  async deliver(e: Envelope): Promise<void | DeliveryReceipt> {
    const to = bareOf(e.to);
    // A user in the working set is taken as is: a settled promise per message still costs a turn.
    const u = this.s.users.peek(to) ?? (await this.s.users.load(to));
    // RFC 6121 8.5.2.2 / 8.5.1: no such user.
    if (!u) throw new DeliveryFailure({ condition: "service-unavailable", type: "cancel" });
    const sender = bareOf(e.from);
    // XEP-0191 3.4: messages from a blocked entity are refused.
    if (u.blocks.has(sender)) throw new DeliveryFailure({ condition: "service-unavailable", type: "cancel" });
    const type = e.type ?? "normal";
    if (type === "error") {
      this.toResources(u, e, this.targets(u, e), false);
      return;
    }
    const targets = this.targets(u, e);
    if (targets.length === 0) {
      if (type === "groupchat") throw new DeliveryFailure({ condition: "service-unavailable", type: "cancel" });
      if (type === "headline") return DISCARDED; // RFC 6121 8.5.2.1.1: headlines are not stored
      if ((await this.s.store.countOffline(u.jid)) >= this.s.limits.maxOffline) {
        throw new DeliveryFailure({ condition: "service-unavailable", type: "wait", text: `${u.jid} has too many stored messages` });
      }
      await this.s.store.storeOffline(u.jid, e);
      this.s.stats.offlineStored++;
      return STORED_OFFLINE;
    }
    this.toResources(u, e, targets, true);
  }

  /** Re-delivers a message a device took but never acknowledged (XEP-0198 section 4 on timeout). */
  async redeliver(e: Envelope, except: Device): Promise<void> {
    const u = except.user;
    const targets = this.targets(u, e).filter((d) => d !== except);
    if (targets.length) this.toResources(u, e, targets, false);
    else await this.s.store.storeOffline(u.jid, e);
  }

  /** Which resources get a message (RFC 6121 8.5.3 for a full JID, 8.5.2 plus pinning for a bare one). */
  private targets(u: UserState, e: Envelope): Device[] {
    const slash = e.to.indexOf("/", e.to.indexOf("@") + 1);
    if (slash >= 0) {
      const d = u.devices.get(e.to.slice(slash + 1));
      // RFC 6121 8.5.3.2.1: chat/normal to an unavailable resource are treated as sent to the bare JID.
      if (d && d.available) return [d];
      if ((e.type ?? "normal") !== "chat" && e.type !== "normal" && e.type !== undefined) return [];
    }
    const eligible: Device[] = [];
    for (const d of u.devices.values()) if (d.available && d.priority >= 0) eligible.push(d);
    const pinned = u.pins.get(bareOf(e.from));
    if (pinned) {
      const p = eligible.find((d) => d.resource === pinned);
      if (p) return [p];
    }
    return eligible;
  }

  private toResources(u: UserState, e: Envelope, targets: Device[], carbons: boolean): void {
    for (const d of targets) this.s.push(d, { kind: "message", envelope: e });
    if (!carbons || !carbonEligible(e)) return;
    for (const d of u.devices.values()) {
      if (d.carbons && d.available && !targets.includes(d)) this.s.push(d, { kind: "message", envelope: e, carbon: "received" });
    }
  }

  /** Offline messages for a device that just became available with non-negative priority. */
  async flushOffline(d: Device): Promise<void> {
    if (d.priority < 0) return;
    const stored = await this.s.store.takeOffline(d.user.jid);
    for (const m of stored) this.s.push(d, { kind: "message", envelope: m.envelope, delayed: true });
  }
}
