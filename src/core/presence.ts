/**
 * RFC 6121 section 4: presence broadcast, probes, directed presence and the
 * unavailable broadcast when a device leaves. Hosted watchers get each device's
 * presence (its own state overlaid with the user's phone/calendar/manual
 * sources); partners get the aggregate from the bare JID, only when it changes.
 */
import { bareOf, domainOf } from "../model/envelope.js";
import type { Envelope } from "../model/envelope.js";
import type { RichPresence } from "../model/presence.js";
import { aggregate, samePresence } from "./aggregate.js";
import type { Shared } from "./shared.js";
import type { Device, UserState } from "./user.js";
import type { CoreEvent } from "./types.js";

const OFFLINE: RichPresence = { state: "offline" };

export class PresenceService {
  constructor(private readonly s: Shared) {}

  /** What watchers see of one device. */
  view(d: Device): RichPresence {
    if (!d.presence || d.presence.state === "offline") return OFFLINE;
    const u = d.user;
    if (u.sources.size === 0) return d.presence;
    return aggregate([{ presence: d.presence, priority: d.priority, changed: d.changed }], u.sources);
  }

  aggregateOf(u: UserState): RichPresence {
    const devices = [...u.devices.values()].filter((d) => d.available).map((d) => ({ presence: d.presence!, priority: d.priority, changed: d.changed }));
    return aggregate(devices, u.sources);
  }

  /** Whether `watcher` (hosted state or a remote bare JID) may see `watched`. */
  mayWatch(watcher: UserState | string, watched: UserState): boolean {
    const jid = typeof watcher === "string" ? watcher : watcher.jid;
    if (watched.blocks.has(jid) || watched.blocks.has(domainOf(jid))) return false;
    if (typeof watcher !== "string" && (watcher.blocks.has(watched.jid) || watcher.blocks.has(domainOf(watched.jid)))) return false;
    const policy = this.s.policy;
    if (policy.isTrivial) return true;
    if (policy.walled(jid, watched.jid)) return false;
    if (policy.rulesTrivial) return true;
    const groups = typeof watcher === "string" ? policy.groupsOf(jid) : watcher.groups;
    return policy.mayWatch(groups, watched.groups).allowed;
  }

  event(d: Device): CoreEvent {
    const p = this.view(d);
    return p.state === "offline" ? { kind: "presence", from: d.full, type: "unavailable" } : { kind: "presence", from: d.full, presence: p };
  }

  /** A device sent presence without a type, or unavailable. */
  update(d: Device, presence: RichPresence, priority: number): void {
    const initial = !d.available && presence.state !== "offline";
    const leaving = d.available && presence.state === "offline";
    if (!d.available && presence.state === "offline") return;
    d.presence = presence;
    d.priority = priority;
    d.changed = this.s.tick();
    this.broadcast(d);
    if (initial) this.initial(d);
    if (leaving) this.endDirected(d);
    this.aggregateChanged(d.user);
  }

  /** RFC 6121 4.2.2 / 4.4.2: to every hosted watcher online and to the user's other resources. */
  broadcast(d: Device): void {
    const u = d.user;
    const ev = this.event(d);
    for (const item of u.roster.values()) {
      if (item.subscription !== "from" && item.subscription !== "both") continue;
      const w = this.s.users.peek(item.jid);
      if (!w || w.devices.size === 0 || !this.mayWatch(w, u)) continue;
      for (const wd of w.devices.values()) if (wd.available) this.s.push(wd, ev);
    }
    for (const other of u.devices.values()) if (other !== d && other.available) this.s.push(other, ev);
  }

  /** RFC 6121 4.2.2: probes, the user's other resources, pending requests. */
  private initial(d: Device): void {
    const u = d.user;
    for (const item of u.roster.values()) {
      if (item.subscription === "to" || item.subscription === "both") {
        if (this.s.isHosted(item.jid)) {
          const c = this.s.users.peek(item.jid);
          if (!c || !this.mayWatch(u, c)) continue;
          for (const cd of c.devices.values()) if (cd.available) this.s.push(d, this.event(cd));
        } else {
          this.s.sendQuiet(this.outbound(u.jid, item.jid, "probe"));
        }
      }
      // RFC 6121 3.1.3: a request that waited for the user is delivered at login.
      if (item.pendingIn) this.s.push(d, { kind: "subscription", from: item.jid, type: "subscribe" });
    }
    for (const other of u.devices.values()) if (other !== d && other.available) this.s.push(d, this.event(other));
  }

  /** Partners see one aggregate presence per user, sent only when it changes. */
  aggregateChanged(u: UserState): void {
    const agg = this.aggregateOf(u);
    if (samePresence(agg, u.lastAggregate)) return;
    u.lastAggregate = agg;
    for (const item of u.roster.values()) {
      if (item.subscription !== "from" && item.subscription !== "both") continue;
      if (this.s.isHosted(item.jid) || !this.mayWatch(item.jid, u)) continue;
      this.s.sendQuiet(this.outbound(u.jid, item.jid, agg.state === "offline" ? "unavailable" : undefined, agg));
    }
  }

  /** Sends the user's current presence to one contact (after approval, unblock). */
  sendCurrent(u: UserState, contact: string, unavailable = false): void {
    if (this.s.isHosted(contact)) {
      const c = this.s.users.peek(bareOf(contact));
      if (!c) return;
      for (const d of u.devices.values()) {
        if (!d.available) continue;
        const ev: CoreEvent = unavailable ? { kind: "presence", from: d.full, type: "unavailable" } : this.event(d);
        for (const cd of c.devices.values()) if (cd.available) this.s.push(cd, ev);
      }
      return;
    }
    const agg = this.aggregateOf(u);
    if (!unavailable && agg.state === "offline") return;
    this.s.sendQuiet(this.outbound(u.jid, contact, unavailable || agg.state === "offline" ? "unavailable" : undefined, unavailable ? undefined : agg));
  }

  /** RFC 6121 4.6: directed presence; remembered so unavailable reaches it too. */
  async directed(d: Device, to: string, presence: RichPresence | undefined): Promise<void> {
    const bare = bareOf(to);
    const item = d.user.roster.get(bare);
    const contact = item && (item.subscription === "from" || item.subscription === "both");
    if (!contact) {
      if (presence && d.available) d.directed.add(to);
      else d.directed.delete(to);
    }
    const ev: CoreEvent = presence && presence.state !== "offline"
      ? { kind: "presence", from: d.full, presence }
      : { kind: "presence", from: d.full, type: "unavailable" };
    if (this.s.isHosted(to)) {
      const t = await this.s.users.load(bare);
      if (!t || !this.mayWatch(t, d.user)) return;
      this.pushTo(t, to, ev);
      return;
    }
    this.s.sendQuiet({
      ...this.outbound(d.full, to, presence ? undefined : "unavailable", presence),
    });
  }

  private endDirected(d: Device): void {
    for (const to of d.directed) void this.directed(d, to, undefined);
    d.directed.clear();
  }

  /** Presence from outside (a partner, or the router's internal path) for a hosted user. */
  async inbound(e: Envelope): Promise<void> {
    const u = await this.s.users.load(bareOf(e.to));
    if (!u) return; // RFC 6121 8.5.1: no such user - silently ignored
    const from = e.from;
    const fromBare = bareOf(from);
    if (e.type === "probe") {
      const item = u.roster.get(fromBare);
      if (!item || (item.subscription !== "from" && item.subscription !== "both") || !this.mayWatch(fromBare, u)) return;
      this.sendCurrent(u, fromBare, !u.online);
      return;
    }
    if (u.blocks.has(fromBare) || u.blocks.has(domainOf(fromBare))) return;
    if (!this.s.policy.rulesTrivial && !this.s.policy.mayWatch(u.groups, this.s.policy.groupsOf(fromBare)).allowed) return;
    const unavailable = e.type === "unavailable" || e.presence?.state === "offline";
    const ev: CoreEvent = unavailable
      ? { kind: "presence", from, type: "unavailable" }
      : { kind: "presence", from, presence: e.presence ?? { state: "available" } };
    this.pushTo(u, e.to, ev);
  }

  /** To the addressed resource if a full JID, else to all available resources (RFC 6121 8.5.2/8.5.3). */
  private pushTo(u: UserState, to: string, ev: CoreEvent): void {
    const slash = to.indexOf("/");
    if (slash >= 0) {
      const d = u.devices.get(to.slice(slash + 1));
      if (d) this.s.push(d, ev);
      return;
    }
    for (const d of u.devices.values()) if (d.available) this.s.push(d, ev);
  }

  outbound(from: string, to: string, type: string | undefined, presence?: RichPresence): Envelope {
    return this.s.envelope({
      ...this.s.directionTo(to),
      protocol: "internal",
      kind: "presence",
      from,
      to,
      type,
      presence,
    });
  }
}
