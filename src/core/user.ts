/**
 * The in-memory working set: one UserState per account touched since start,
 * with its roster, block list, connected devices and presence sources. The
 * store is read once per user (concurrent loads share one read); every change
 * is written through.
 */
import type { RichPresence } from "../model/presence.js";
import type { CoreStore } from "./store.js";
import type { PresencePolicy } from "./policy.js";
import type { DeviceSink, PresenceSource, RosterItem, RouteFn } from "./types.js";
import type { SecurityContext } from "../model/envelope.js";
import { ContactIndex, Roster } from "./contacts.js";

export class Device {
  /** undefined until the device sends initial presence (RFC 6121 4.2): not "available" before that. */
  presence: RichPresence | undefined;
  priority = 0;
  changed = 0;
  carbons = false;
  /** Requested the roster: receives roster pushes and pending subscription requests (RFC 6121 2.1.6). */
  interested = false;
  /** Entities that got directed presence and are not contacts (RFC 6121 4.6). */
  readonly directed = new Set<string>();
  /** This device's own ordered way into the router, when the access layer gave one (RFC 6120 10.1). */
  route: RouteFn | undefined;

  constructor(
    readonly user: UserState,
    readonly resource: string,
    readonly full: string,
    readonly sink: DeviceSink,
    readonly security: SecurityContext | undefined,
  ) {}

  get available(): boolean {
    return this.presence !== undefined && this.presence.state !== "offline";
  }
}

export class UserState {
  readonly roster: Roster;
  readonly blocks = new Set<string>();
  readonly devices = new Map<string, Device>();
  readonly sources = new Map<PresenceSource, RichPresence>();
  /** Multi-device routing: peer bare JID -> the resource that last wrote to that peer. */
  readonly pins = new Map<string, string>();
  /** Last aggregate sent to remote watchers. */
  lastAggregate: RichPresence = { state: "offline" };

  constructor(
    readonly jid: string,
    readonly groups: string[],
    /** The working set's index of who has whom on their roster. */
    contacts?: ContactIndex,
  ) {
    this.roster = new Roster(jid, contacts);
  }

  *availableDevices(): Iterable<Device> {
    for (const d of this.devices.values()) if (d.available) yield d;
  }

  get online(): boolean {
    for (const _ of this.availableDevices()) return true;
    return false;
  }

  /** Roster items the user sees (pending-in placeholders are not part of the roster). */
  visibleCount(): number {
    let n = 0;
    for (const i of this.roster.values()) if (!i.hidden) n++;
    return n;
  }

  watcherCount(): number {
    let n = 0;
    for (const i of this.roster.values()) if (i.subscription === "from" || i.subscription === "both") n++;
    return n;
  }
}

export class UserDirectory {
  private readonly users = new Map<string, UserState>();
  private readonly loading = new Map<string, Promise<UserState | undefined>>();
  /** Who has whom on their roster, across the working set. */
  readonly contacts = new ContactIndex();

  constructor(
    private readonly store: CoreStore,
    private readonly policy: PresencePolicy,
  ) {}

  /** The user if in the working set (no store read). */
  peek(jid: string): UserState | undefined {
    return this.users.get(jid);
  }

  /** The user with roster and block list loaded, or undefined when there is no such account. */
  load(jid: string): Promise<UserState | undefined> {
    const have = this.users.get(jid);
    if (have) return Promise.resolve(have);
    let p = this.loading.get(jid);
    if (!p) {
      p = this.read(jid).finally(() => this.loading.delete(jid));
      this.loading.set(jid, p);
    }
    return p;
  }

  private async read(jid: string): Promise<UserState | undefined> {
    const account = await this.store.getUser(jid);
    if (!account) return undefined;
    const [items, blocks] = await Promise.all([this.store.loadRoster(jid), this.store.loadBlocks(jid)]);
    const again = this.users.get(jid);
    if (again) return again;
    const u = new UserState(jid, this.policy.groupsOf(jid, account.group), this.contacts);
    for (const i of items) u.roster.set(i.jid, i);
    for (const b of blocks) u.blocks.add(b);
    this.users.set(jid, u);
    return u;
  }

  /** Loads users straight from records already read (bulk warm-up, benchmarks). */
  adopt(jid: string, group: string | undefined, items: RosterItem[]): UserState {
    const u = new UserState(jid, this.policy.groupsOf(jid, group), this.contacts);
    for (const i of items) u.roster.set(i.jid, i);
    this.users.set(jid, u);
    return u;
  }

  forget(jid: string): UserState | undefined {
    const u = this.users.get(jid);
    this.users.delete(jid);
    for (const contact of u?.roster.keys() ?? []) this.contacts.remove(jid, contact);
    return u;
  }

  get size(): number {
    return this.users.size;
  }

  values(): IterableIterator<UserState> {
    return this.users.values();
  }

  /** Online users in the working set subscribed to `contact`'s presence (roster subscription "to" or "both"). */
  watchersOf(contact: string): string[] {
    const out: string[] = [];
    for (const owner of this.contacts.ownersOf(contact)) {
      const u = this.users.get(owner);
      const sub = u?.roster.get(contact)?.subscription;
      if (u && (sub === "to" || sub === "both") && u.online) out.push(owner);
    }
    return out;
  }
}
