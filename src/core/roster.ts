/**
 * RFC 6121 sections 2 and 3: roster management and presence subscriptions,
 * with the contact and watcher limits and the presence policy applied where a
 * user would otherwise gain a contact or a watcher.
 */
import { bareOf } from "../model/envelope.js";
import type { Envelope } from "../model/envelope.js";
import { CoreError, tooManyContacts, tooManyWatchers } from "./errors.js";
import { emptyItem, inbound, outbound, type Transition } from "./subscription.js";
import type { PresenceService } from "./presence.js";
import type { Shared } from "./shared.js";
import type { Device, UserState } from "./user.js";
import type { RosterItem, SubscriptionType } from "./types.js";

const WALLED = "an information barrier prevents presence between these users";

const SUB_TYPES = new Set(["subscribe", "subscribed", "unsubscribe", "unsubscribed"]);

export function isSubscriptionType(t: string | undefined): t is SubscriptionType {
  return t !== undefined && SUB_TYPES.has(t);
}

export class RosterService {
  constructor(
    private readonly s: Shared,
    private readonly presence: PresenceService,
  ) {}

  /** RFC 6121 2.1.3: the roster the user sees; the device now gets pushes. */
  get(d: Device): RosterItem[] {
    d.interested = true;
    return [...d.user.roster.values()].filter((i) => !i.hidden);
  }

  /** RFC 6121 2.3: add or update an item (name and groups only; subscription is not set here). */
  async set(d: Device, jid: string, name: string | undefined, groups: string[]): Promise<void> {
    const u = d.user;
    if (jid === u.jid) throw new CoreError("not-allowed", "cancel", "a user cannot be on their own roster");
    const current = u.roster.get(jid);
    if ((!current || current.hidden) && u.visibleCount() >= this.s.limits.maxContacts) throw tooManyContacts(this.s.limits.maxContacts);
    const item: RosterItem = { ...(current ?? emptyItem(jid)), name, groups: [...new Set(groups)], hidden: false };
    await this.commit(u, item);
  }

  /** RFC 6121 2.5: removal cancels subscriptions both ways. */
  async remove(d: Device, jid: string): Promise<void> {
    const u = d.user;
    const item = u.roster.get(jid);
    if (!item || item.hidden) throw new CoreError("item-not-found", "cancel");
    if (item.subscription === "to" || item.subscription === "both" || item.ask) await this.send(u, jid, "unsubscribe");
    if (item.subscription === "from" || item.subscription === "both" || item.pendingIn) {
      this.presence.sendCurrent(u, jid, true);
      await this.send(u, jid, "unsubscribed");
    }
    u.roster.delete(jid);
    await this.s.store.removeItem(u.jid, jid);
    this.pushItem(u, { ...item, subscription: "none", ask: false }, true);
  }

  /** The user sends subscribe/subscribed/unsubscribe/unsubscribed (RFC 6121 3.x.1-2). */
  async outbound(d: Device, to: string, type: SubscriptionType): Promise<void> {
    const u = d.user;
    const contact = bareOf(to);
    if (contact === u.jid) throw new CoreError("bad-request", "modify", "a user cannot subscribe to themselves");
    if (u.blocks.has(contact)) throw new CoreError("not-acceptable", "cancel", `${contact} is blocked`);
    const current = u.roster.get(contact);
    if (type === "subscribe") {
      if ((!current || current.hidden) && u.visibleCount() >= this.s.limits.maxContacts) throw tooManyContacts(this.s.limits.maxContacts);
      if (this.s.isHosted(contact)) await this.checkCanWatch(u, contact);
    }
    const t = outbound(type, current, contact);
    if (type === "subscribed" && t.changed && t.item && (t.item.subscription === "from" || t.item.subscription === "both")) {
      if ((current?.subscription !== "from" && current?.subscription !== "both") && u.watcherCount() >= this.s.limits.maxWatchers) {
        throw tooManyWatchers(u.jid, this.s.limits.maxWatchers);
      }
    }
    await this.apply(u, contact, t);
    if (t.sendUnavailable) this.presence.sendCurrent(u, contact, true);
    if (t.forward) await this.send(u, contact, type);
    if (t.sendPresence) this.presence.sendCurrent(u, contact);
  }

  /** A subscription stanza for a hosted user (through the router; RFC 6121 3.x.3). */
  async inbound(e: Envelope): Promise<void> {
    const type = e.type;
    if (!isSubscriptionType(type)) return;
    const contact = bareOf(e.from);
    const u = await this.s.users.load(bareOf(e.to));
    if (!u) {
      // RFC 6121 8.5.1: a request to no such user may be answered with unsubscribed.
      if (type === "subscribe") await this.sendAs(bareOf(e.to), contact, "unsubscribed");
      return;
    }
    if (u.blocks.has(contact)) return; // XEP-0191 3.4: nothing from a blocked entity reaches the user
    const current = u.roster.get(contact);
    if (type === "subscribe" && !(current && (current.subscription === "from" || current.subscription === "both"))) {
      const denied = this.watchDenied(u, contact);
      if (denied) {
        this.s.log?.debug({ user: u.jid, contact, reason: denied }, "subscription request refused");
        await this.send(u, contact, "unsubscribed");
        return;
      }
    }
    const t = inbound(type, current, contact);
    await this.apply(u, contact, t);
    if (t.autoReply) await this.send(u, contact, t.autoReply);
    if (t.sendPresence) this.presence.sendCurrent(u, contact);
    if (t.sendUnavailable) this.presence.sendCurrent(u, contact, true);
    if (t.forward) {
      for (const d of u.devices.values()) {
        // RFC 6121 3.1.3: requests go to resources that asked for the roster; others get them at login.
        if (type === "subscribe" ? d.interested && d.available : d.available) this.s.push(d, { kind: "subscription", from: contact, type });
      }
    }
  }

  /** Why `contact` may not become a watcher of `u`, or undefined. */
  private watchDenied(u: UserState, contact: string): string | undefined {
    const groups = this.s.isHosted(contact) ? (this.s.users.peek(contact)?.groups ?? this.s.policy.groupsOf(contact)) : this.s.policy.groupsOf(contact);
    if (this.s.policy.walled(contact, u.jid)) return WALLED;
    const verdict = this.s.policy.mayWatch(groups, u.groups);
    if (!verdict.allowed) return verdict.reason;
    if (u.watcherCount() >= this.s.limits.maxWatchers) return `${u.jid} already has the maximum of ${this.s.limits.maxWatchers} watchers`;
    return undefined;
  }

  /** Refuses, with the reason, a subscription the contact's side would refuse anyway. */
  private async checkCanWatch(u: UserState, contact: string): Promise<void> {
    const c = await this.s.users.load(contact);
    if (!c) return; // the contact's side answers unsubscribed
    const item = c.roster.get(u.jid);
    if (item && (item.subscription === "from" || item.subscription === "both")) return;
    if (c.blocks.has(u.jid)) return; // XEP-0191: the blocked user is not told
    if (this.s.policy.walled(u.jid, c.jid)) throw new CoreError("forbidden", "auth", WALLED);
    const verdict = this.s.policy.mayWatch(u.groups, c.groups);
    if (!verdict.allowed) throw new CoreError("forbidden", "auth", verdict.reason);
    if (c.watcherCount() >= this.s.limits.maxWatchers) throw tooManyWatchers(contact, this.s.limits.maxWatchers);
  }

  private async apply(u: UserState, contact: string, t: Transition): Promise<void> {
    if (!t.changed || !t.item) return;
    const item = t.item;
    if (item.hidden && !item.pendingIn) {
      // A pending request that went away leaves nothing behind.
      u.roster.delete(contact);
      await this.s.store.removeItem(u.jid, contact);
      return;
    }
    await this.commit(u, item);
  }

  async commit(u: UserState, item: RosterItem): Promise<void> {
    u.roster.set(item.jid, item);
    await this.s.store.putItem(u.jid, item);
    if (!item.hidden) this.pushItem(u, item, false);
  }

  /** RFC 6121 2.1.6: roster push to every interested resource. */
  private pushItem(u: UserState, item: RosterItem, removed: boolean): void {
    for (const d of u.devices.values()) if (d.interested) this.s.push(d, { kind: "roster-push", item, removed });
  }

  private send(u: UserState, contact: string, type: SubscriptionType): Promise<void> {
    return this.sendAs(u.jid, contact, type);
  }

  /** Subscription stanzas travel from the bare JID (RFC 6121 3.1.2) through the router. */
  private async sendAs(from: string, to: string, type: SubscriptionType): Promise<void> {
    const e = this.s.envelope({ ...this.s.directionTo(to), protocol: "internal", kind: "subscription", from, to, type });
    const r = await this.s.send(e);
    if (!r.delivered) this.s.log?.debug({ id: e.id, from, to, type, condition: r.error.condition }, "subscription stanza not delivered");
  }
}
