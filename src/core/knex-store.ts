/**
 * The core's state in the archive's database (SQLite or PostgreSQL through
 * knex). Tables come from migration 020_core. Dialect differences (booleans as
 * 0/1, JSON as text, ids as strings) are normalized here and nowhere else.
 */
import type { Knex } from "knex";
import type { Envelope } from "../model/envelope.js";
import type { CoreStore, OfflineMessage } from "./store.js";
import type { RosterItem, StoredUser, Subscription } from "./types.js";

interface UserRow { jid: string; group_name: string | null; credentials: string }
interface ItemRow {
  user_jid: string; contact: string; name: string | null; groups: string; subscription: string;
  ask: number | boolean; pending_in: number | boolean; approved: number | boolean; hidden: number | boolean;
}

const SUBS = new Set(["none", "to", "from", "both"]);
/** Most items have no groups: one shared, frozen array saves an allocation per item in the working set. */
const NO_GROUPS = Object.freeze([]) as unknown as string[];
const CHUNK = 500;

function toItem(r: ItemRow): RosterItem {
  return {
    jid: r.contact,
    name: r.name ?? undefined,
    groups: r.groups === "[]" ? NO_GROUPS : parseJson<string[]>(r.groups, []),
    subscription: (SUBS.has(r.subscription) ? r.subscription : "none") as Subscription,
    ask: Boolean(r.ask),
    pendingIn: Boolean(r.pending_in),
    approved: Boolean(r.approved),
    hidden: Boolean(r.hidden),
  };
}

function toRow(user: string, i: RosterItem): ItemRow {
  return {
    user_jid: user, contact: i.jid, name: i.name ?? null, groups: JSON.stringify(i.groups), subscription: i.subscription,
    ask: i.ask, pending_in: i.pendingIn, approved: i.approved, hidden: i.hidden,
  };
}

function parseJson<T>(v: unknown, fallback: T): T {
  if (v === null || v === undefined) return fallback;
  if (typeof v !== "string") return v as T;
  try {
    return JSON.parse(v) as T;
  } catch {
    return fallback;
  }
}

export class KnexStore implements CoreStore {
  constructor(private readonly db: Knex) {}

  async getUser(jid: string) {
    const r = (await this.db<UserRow>("core_users").where({ jid }).first()) as UserRow | undefined;
    return r ? { jid: r.jid, group: r.group_name ?? undefined, credentials: parseJson(r.credentials, {}) } : undefined;
  }
  async putUser(u: StoredUser) {
    await this.db("core_users")
      .insert({ jid: u.jid, group_name: u.group ?? null, credentials: JSON.stringify(u.credentials) })
      .onConflict("jid")
      .merge(["group_name", "credentials"]);
  }
  async removeUser(jid: string) {
    return this.db.transaction(async (tx) => {
      await tx("core_roster").where({ user_jid: jid }).delete();
      await tx("core_blocks").where({ user_jid: jid }).delete();
      await tx("core_offline").where({ user_jid: jid }).delete();
      return (await tx("core_users").where({ jid }).delete()) > 0;
    });
  }
  async listUsers(domain?: string) {
    const q = this.db<UserRow>("core_users").orderBy("jid");
    if (domain) q.where("jid", "like", `%@${domain}`);
    return ((await q) as UserRow[]).map((r) => ({ jid: r.jid, group: r.group_name ?? undefined, credentials: parseJson(r.credentials, {}) }));
  }
  async loadRoster(user: string) {
    return ((await this.db<ItemRow>("core_roster").where({ user_jid: user })) as ItemRow[]).map(toItem);
  }
  async putItem(user: string, item: RosterItem) {
    await this.db("core_roster").insert(toRow(user, item)).onConflict(["user_jid", "contact"]).merge();
  }
  async putItems(user: string, items: RosterItem[]) {
    await this.db.transaction(async (tx) => {
      for (let i = 0; i < items.length; i += CHUNK) {
        await tx("core_roster").insert(items.slice(i, i + CHUNK).map((it) => toRow(user, it))).onConflict(["user_jid", "contact"]).merge();
      }
    });
  }
  async removeItem(user: string, contact: string) {
    await this.db("core_roster").where({ user_jid: user, contact }).delete();
  }
  async loadBlocks(user: string) {
    return ((await this.db("core_blocks").where({ user_jid: user }).select("jid")) as { jid: string }[]).map((r) => r.jid);
  }
  async setBlocked(user: string, jids: string[], blocked: boolean) {
    if (jids.length === 0) return;
    if (blocked) {
      await this.db("core_blocks").insert(jids.map((jid) => ({ user_jid: user, jid }))).onConflict(["user_jid", "jid"]).ignore();
    } else {
      await this.db("core_blocks").where({ user_jid: user }).whereIn("jid", jids).delete();
    }
  }
  async clearBlocks(user: string) {
    await this.db("core_blocks").where({ user_jid: user }).delete();
  }
  async storeOffline(user: string, envelope: Envelope) {
    await this.db("core_offline").insert({ user_jid: user, received_at: envelope.receivedAt, envelope: JSON.stringify(envelope) });
  }
  async countOffline(user: string) {
    const r = (await this.db("core_offline").where({ user_jid: user }).count({ n: "*" }).first()) as { n: number | string } | undefined;
    return Number(r?.n ?? 0);
  }
  async takeOffline(user: string): Promise<OfflineMessage[]> {
    return this.db.transaction(async (tx) => {
      const rows = (await tx("core_offline").where({ user_jid: user }).orderBy("id")) as { id: number | string; envelope: string }[];
      if (rows.length) await tx("core_offline").whereIn("id", rows.map((r) => r.id)).delete();
      return rows.map((r) => ({ id: String(r.id), envelope: parseJson<Envelope>(r.envelope, {} as Envelope) }));
    });
  }
}
