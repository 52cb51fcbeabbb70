/**
 * The core's persistence, behind one small interface: accounts, rosters,
 * block lists and offline messages. The knex store keeps them in the same
 * database as the archive; the memory store serves tests and benchmarks. Both
 * pass the same contract suite (test/core/store.contract.ts).
 */
import type { Envelope } from "../model/envelope.js";
import type { RosterItem, StoredUser } from "./types.js";

export interface OfflineMessage {
  id: string;
  envelope: Envelope;
}

export interface CoreStore {
  getUser(jid: string): Promise<StoredUser | undefined>;
  /** Creates or replaces the account. */
  putUser(user: StoredUser): Promise<void>;
  /** Removes the account with its roster, block list and offline messages. */
  removeUser(jid: string): Promise<boolean>;
  listUsers(domain?: string): Promise<StoredUser[]>;

  loadRoster(user: string): Promise<RosterItem[]>;
  putItem(user: string, item: RosterItem): Promise<void>;
  removeItem(user: string, contact: string): Promise<void>;
  /** Many items at once (bulk import), in one transaction where possible. */
  putItems(user: string, items: RosterItem[]): Promise<void>;

  loadBlocks(user: string): Promise<string[]>;
  setBlocked(user: string, jids: string[], blocked: boolean): Promise<void>;
  clearBlocks(user: string): Promise<void>;

  storeOffline(user: string, envelope: Envelope): Promise<void>;
  countOffline(user: string): Promise<number>;
  /** Returns and deletes the user's offline messages, oldest first. */
  takeOffline(user: string): Promise<OfflineMessage[]>;
}

export class MemoryStore implements CoreStore {
  private readonly users = new Map<string, StoredUser>();
  private readonly rosters = new Map<string, Map<string, RosterItem>>();
  private readonly blocks = new Map<string, Set<string>>();
  private readonly offline = new Map<string, OfflineMessage[]>();
  private seq = 0;

  async getUser(jid: string) {
    return this.users.get(jid);
  }
  async putUser(user: StoredUser) {
    this.users.set(user.jid, { ...user });
  }
  async removeUser(jid: string) {
    const had = this.users.delete(jid);
    this.rosters.delete(jid);
    this.blocks.delete(jid);
    this.offline.delete(jid);
    return had;
  }
  async listUsers(domain?: string) {
    return [...this.users.values()].filter((u) => !domain || u.jid.endsWith(`@${domain}`)).sort((a, b) => a.jid.localeCompare(b.jid));
  }
  async loadRoster(user: string) {
    return [...(this.rosters.get(user)?.values() ?? [])].map((i) => ({ ...i, groups: [...i.groups] }));
  }
  async putItem(user: string, item: RosterItem) {
    let r = this.rosters.get(user);
    if (!r) this.rosters.set(user, (r = new Map()));
    r.set(item.jid, { ...item, groups: [...item.groups] });
  }
  async putItems(user: string, items: RosterItem[]) {
    for (const i of items) await this.putItem(user, i);
  }
  async removeItem(user: string, contact: string) {
    this.rosters.get(user)?.delete(contact);
  }
  async loadBlocks(user: string) {
    return [...(this.blocks.get(user) ?? [])];
  }
  async setBlocked(user: string, jids: string[], blocked: boolean) {
    let s = this.blocks.get(user);
    if (!s) this.blocks.set(user, (s = new Set()));
    for (const j of jids) {
      if (blocked) s.add(j);
      else s.delete(j);
    }
  }
  async clearBlocks(user: string) {
    this.blocks.delete(user);
  }
  async storeOffline(user: string, envelope: Envelope) {
    let q = this.offline.get(user);
    if (!q) this.offline.set(user, (q = []));
    q.push({ id: String(++this.seq), envelope });
  }
  async countOffline(user: string) {
    return this.offline.get(user)?.length ?? 0;
  }
  async takeOffline(user: string) {
    const q = this.offline.get(user) ?? [];
    this.offline.delete(user);
    return q;
  }
}
