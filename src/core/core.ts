/**
 * The presence core: an in-process library with no sockets. Devices connect
 * through CoreSession; everything a user sends to another user passes the
 * router (compliance, archive) and comes back through deliver(), the router's
 * internal DeliveryTarget, which only delivers and never routes the same
 * envelope again.
 */
import { bareOf } from "../model/envelope.js";
import type { Envelope, SecurityContext } from "../model/envelope.js";
import type { RichPresence } from "../model/presence.js";
import { parseJid, formatJid } from "../model/jid.js";
import { DeliveryFailure, type DeliveryTarget } from "../model/route.js";
import type { Log } from "../model/log.js";
import { CoreError } from "./errors.js";
import { MessageService } from "./messages.js";
import { PresencePolicy } from "./policy.js";
import { PresenceService } from "./presence.js";
import { RosterService } from "./roster.js";
import { CoreSession } from "./session.js";
import { Shared, type CoreStats } from "./shared.js";
import { MemoryStore, type CoreStore } from "./store.js";
import { Device, UserDirectory, type UserState } from "./user.js";
import type { DeviceSink, Limits, PresenceSource, RouteFn } from "./types.js";
import type { DeliveryReceipt } from "../model/outcome.js";

export interface CoreOptions {
  /** The hosted domains, or a function asked each time (the gateway's federation view, swapped on reload). */
  domains: string[] | (() => ReadonlySet<string>);
  store?: CoreStore | undefined;
  limits?: Partial<Limits> | undefined;
  policy?: PresencePolicy | undefined;
  /** The router's route(); without one, hosted users reach each other directly and partners are unreachable. */
  route?: RouteFn | undefined;
  /**
   * Compliance for what the core fans out itself: a status line is screened
   * once, as internal presence, before local contacts see it. Returns the
   * envelope as decided, or undefined when it was refused.
   */
  screen?: ((e: Envelope) => Promise<Envelope | undefined>) | undefined;
  log?: Pick<Log, "warn" | "debug" | "error"> | undefined;
}

export class PresenceCore implements DeliveryTarget {
  readonly users: UserDirectory;
  /** @internal compliance for presence the core fans out, for CoreSession */
  readonly screen: CoreOptions["screen"];
  /** @internal the parts, for CoreSession */
  readonly parts: { s: Shared; presence: PresenceService; roster: RosterService; messages: MessageService };

  constructor(opts: CoreOptions) {
    const store = opts.store ?? new MemoryStore();
    this.screen = opts.screen;
    const policy = opts.policy ?? PresencePolicy.allowAll();
    this.users = new UserDirectory(store, policy);
    const limits: Limits = {
      maxContacts: opts.limits?.maxContacts ?? 200,
      maxWatchers: opts.limits?.maxWatchers ?? 200,
      maxOffline: opts.limits?.maxOffline ?? 1_000,
    };
    const given = opts.domains;
    const fixed = Array.isArray(given) ? new Set(given.map((d) => d.toLowerCase())) : undefined;
    const s = new Shared(fixed ? () => fixed : (given as () => ReadonlySet<string>), store, this.users, limits, policy, opts.route, opts.log);
    const presence = new PresenceService(s);
    this.parts = { s, presence, roster: new RosterService(s, presence), messages: new MessageService(s) };
    s.deliverLocal = async (e) => void (await this.deliver(e));
  }

  get store(): CoreStore {
    return this.parts.s.store;
  }
  get stats(): CoreStats {
    return this.parts.s.stats;
  }
  get limits(): Limits {
    return this.parts.s.limits;
  }

  useRoute(route: RouteFn | undefined): void {
    this.parts.s.route = route;
  }

  /** New policy on reload; group membership of loaded users is recomputed. */
  async usePolicy(policy: PresencePolicy): Promise<void> {
    this.parts.s.policy = policy;
    for (const u of this.users.values()) {
      const account = await this.store.getUser(u.jid);
      u.groups.splice(0, u.groups.length, ...policy.groupsOf(u.jid, account?.group));
    }
  }

  isHosted(jid: string): boolean {
    return this.parts.s.isHosted(jid);
  }

  /**
   * A device comes online (after resource binding). A resource already in use
   * is taken over: the old session is told "conflict" (RFC 6120 7.7.2.2).
   */
  async connect(jid: string, resource: string, sink: DeviceSink, security?: SecurityContext, route?: RouteFn): Promise<CoreSession> {
    const bare = formatJid(parseJid(jid), true);
    const u = await this.users.load(bare);
    if (!u) throw new CoreError("item-not-found", "cancel", `no account ${bare}`);
    const old = u.devices.get(resource);
    if (old) {
      this.parts.s.push(old, { kind: "closed", reason: "conflict" });
      this.disconnect(old);
    }
    const d = new Device(u, resource, `${bare}/${resource}`, sink, security);
    d.route = route;
    u.devices.set(resource, d);
    return new CoreSession(this, d);
  }

  /** @internal used by CoreSession.close */
  disconnect(d: Device): void {
    const u = d.user;
    if (u.devices.get(d.resource) !== d) return;
    if (d.available) this.parts.presence.update(d, { state: "offline" }, d.priority);
    u.devices.delete(d.resource);
    for (const [peer, res] of u.pins) if (res === d.resource) u.pins.delete(peer);
  }

  /** The router's internal target: envelopes for hosted users, after compliance and archive. */
  async deliver(e: Envelope): Promise<void | DeliveryReceipt> {
    if (!this.isHosted(e.to)) throw new DeliveryFailure({ condition: "item-not-found", type: "cancel", text: "not a hosted domain" }, true);
    switch (e.kind) {
      case "message":
      case "file-transfer":
        return this.parts.messages.deliver(e);
      case "presence":
        return this.parts.presence.inbound(e);
      case "subscription":
        return this.parts.roster.inbound(e);
      default:
        throw new DeliveryFailure({ condition: "service-unavailable", type: "cancel" });
    }
  }

  /** The user's aggregate rich presence. */
  /**
   * Hosted users online now whose roster subscribes to `jid`'s presence ("to"
   * or "both"): the ones a partner user's presence is for. Answered from an
   * index kept as rosters change, not by reading every roster.
   */
  watchersOf(jid: string): string[] {
    return this.users.watchersOf(bareOf(jid));
  }

  presenceOf(jid: string): RichPresence {
    const u = this.users.peek(bareOf(jid));
    return u ? this.parts.presence.aggregateOf(u) : { state: "offline" };
  }

  /** Phone, calendar or manual state for a user; undefined clears the source. */
  async setSource(jid: string, source: PresenceSource, presence: RichPresence | undefined): Promise<void> {
    const u = await this.users.load(bareOf(jid));
    if (!u) throw new CoreError("item-not-found", "cancel", `no account ${bareOf(jid)}`);
    if (presence) u.sources.set(source, presence);
    else u.sources.delete(source);
    for (const d of u.devices.values()) if (d.available) this.parts.presence.broadcast(d);
    this.parts.presence.aggregateChanged(u);
  }

  /** XEP-0191: block or unblock; blocked entities lose our presence at once. */
  async setBlocked(u: UserState, jids: string[], blocked: boolean): Promise<void> {
    const list = blocked ? jids.filter((j) => !u.blocks.has(j)) : jids.length ? jids.filter((j) => u.blocks.has(j)) : [...u.blocks];
    if (list.length === 0) return;
    await this.store.setBlocked(u.jid, list, blocked);
    for (const j of list) {
      if (blocked) {
        // XEP-0191 3.3: the blocked entity receives unavailable presence.
        if (u.online) this.parts.presence.sendCurrent(u, j, true);
        u.blocks.add(j);
      } else {
        u.blocks.delete(j);
        const item = u.roster.get(j);
        if (item && (item.subscription === "from" || item.subscription === "both")) this.parts.presence.sendCurrent(u, j);
      }
    }
    for (const d of u.devices.values()) if (d.interested) this.parts.s.push(d, { kind: "block-push", jids: list, blocked });
  }

  /** Account removal: sessions end, state leaves memory. */
  async removeAccount(jid: string): Promise<boolean> {
    const u = this.users.peek(bareOf(jid));
    if (u) {
      for (const d of [...u.devices.values()]) {
        this.parts.s.push(d, { kind: "closed", reason: "removed" });
        this.disconnect(d);
      }
      this.users.forget(u.jid);
    }
    return this.store.removeUser(bareOf(jid));
  }
}
