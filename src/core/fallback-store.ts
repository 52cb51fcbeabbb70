/**
 * Keeps accounts and rosters usable while the database is away.
 *
 * The core's state lives in the archive's database (PostgreSQL in
 * production). When that database is unreachable the archive carries on into
 * its journal, but logins used to fail because credentials were read from the
 * same database. This store wraps the database store with a copy in memory:
 * every account is read at start (credentials are small), rosters and block
 * lists as users load them, and every successful read or write refreshes the
 * copy. While the database answers it stays the source of truth (a `users`
 * command run beside the gateway is seen at once); when it does not, reads
 * are served from the copy and writes go to the copy and to a queue that is
 * replayed, in order, once the database answers again.
 *
 * Chosen over a second, local accounts database because there is then still
 * one place accounts are administered (the CLI writes the database) and
 * nothing to keep in step across restarts: the copy only has to cover the
 * time the gateway runs without its database; at start the database is
 * required anyway (archive.connect_timeout_s). Queued writes live in memory:
 * a crash during an outage loses roster changes made during it, which the
 * readiness report says while there are any.
 */
import type { Envelope } from "../model/envelope.js";
import type { CoreStore, OfflineMessage } from "./store.js";
import type { RosterItem, StoredUser } from "./types.js";

export interface FallbackOptions {
  /** How long a read may wait for the database before the copy answers. */
  readTimeoutMs?: number;
  /** How often queued writes are retried while the database is away. */
  retryMs?: number;
  /** Writes kept for replay at most; past it a write fails as it would without the copy. */
  maxQueued?: number;
  onStateChange?: (down: string | undefined) => void;
  /** A queued change the database refused for good when it came back (it is dropped). */
  onDropped?: (what: string, err: Error) => void;
}

const CONNECTION_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH", "ENOTFOUND", "EPIPE", "EAI_AGAIN"]);

/** Errors that mean "the database is not there", as opposed to a query it refused. */
export function isUnavailable(err: unknown): boolean {
  const e = err as { code?: string; name?: string; message?: string };
  if (e.name === "KnexTimeoutError" || e.name === "StoreTimeout") return true;
  if (e.code && (CONNECTION_CODES.has(e.code) || /^(08|57P0)/.test(e.code))) return true;
  return /Connection terminated|connect ECONNREFUSED|not queryable|Unable to acquire a connection/i.test(e.message ?? "");
}

class StoreTimeout extends Error {
  override name = "StoreTimeout";
}

export class FallbackStore implements CoreStore {
  private readonly users = new Map<string, StoredUser>();
  private readonly rosters = new Map<string, Map<string, RosterItem>>();
  private readonly blocks = new Map<string, Set<string>>();
  private readonly queue: { what: string; run: () => Promise<void> }[] = [];
  private timer: NodeJS.Timeout | undefined;
  private flushing = false;
  /** Why the database is considered away, or undefined while it answers. */
  down: string | undefined;

  constructor(
    private readonly inner: CoreStore,
    private readonly opts: FallbackOptions = {},
  ) {}

  /** Reads every account into the copy (at start, while the database is there). */
  async warm(): Promise<number> {
    const all = await this.inner.listUsers();
    for (const u of all) this.users.set(u.jid, u);
    return all.length;
  }

  /**
   * Reads every roster and block list into the copy, one user at a time, in
   * the background after start; a user whose lists are not copied yet when
   * the database goes away cannot log in until it is back.
   */
  async warmLists(stop: () => boolean = () => false): Promise<number> {
    let n = 0;
    for (const jid of [...this.users.keys()]) {
      if (stop() || this.down) break;
      if (!this.rosters.has(jid)) this.rosters.set(jid, new Map((await this.inner.loadRoster(jid)).map((i) => [i.jid, i])));
      if (!this.blocks.has(jid)) this.blocks.set(jid, new Set(await this.inner.loadBlocks(jid)));
      n++;
    }
    return n;
  }

  get queued(): number {
    return this.queue.length;
  }

  async getUser(jid: string) {
    const u = await this.read(() => this.inner.getUser(jid), () => this.users.get(jid) ?? null);
    if (u) this.users.set(jid, u);
    else if (!this.down) this.users.delete(jid);
    return u ?? undefined;
  }
  async listUsers(domain?: string) {
    return this.read(() => this.inner.listUsers(domain), () => [...this.users.values()].filter((u) => !domain || u.jid.endsWith(`@${domain}`)).sort((a, b) => a.jid.localeCompare(b.jid)));
  }
  async loadRoster(user: string) {
    const items = await this.read(() => this.inner.loadRoster(user), () => (this.rosters.has(user) ? [...this.rosters.get(user)!.values()] : undefined));
    this.rosters.set(user, new Map(items.map((i) => [i.jid, i])));
    return items.map((i) => ({ ...i, groups: [...i.groups] }));
  }
  async loadBlocks(user: string) {
    const list = await this.read(() => this.inner.loadBlocks(user), () => (this.blocks.has(user) ? [...this.blocks.get(user)!] : undefined));
    this.blocks.set(user, new Set(list));
    return list;
  }
  async countOffline(user: string) {
    // While away, nothing new is readable: the queue holds what was stored since.
    return this.read(() => this.inner.countOffline(user), () => this.queue.filter((q) => q.what === `offline:${user}`).length);
  }
  async takeOffline(user: string): Promise<OfflineMessage[]> {
    // Messages stay in the database until it is back; the next login after that delivers them.
    return this.read(() => this.inner.takeOffline(user), () => []);
  }

  async putUser(user: StoredUser) {
    // The copy holds every account (warmed at start, kept by reads and writes): one it lacks is new, with empty lists.
    if (!this.users.has(user.jid)) {
      if (!this.rosters.has(user.jid)) this.rosters.set(user.jid, new Map());
      if (!this.blocks.has(user.jid)) this.blocks.set(user.jid, new Set());
    }
    this.users.set(user.jid, { ...user });
    await this.write(`user:${user.jid}`, () => this.inner.putUser(user));
  }
  async removeUser(jid: string) {
    const had = this.users.delete(jid);
    this.rosters.delete(jid);
    this.blocks.delete(jid);
    let removed = had;
    await this.write(`user:${jid}`, async () => void (removed = await this.inner.removeUser(jid)));
    return removed;
  }
  async putItem(user: string, item: RosterItem) {
    this.rosterOf(user).set(item.jid, { ...item, groups: [...item.groups] });
    await this.write(`roster:${user}`, () => this.inner.putItem(user, item));
  }
  async putItems(user: string, items: RosterItem[]) {
    const r = this.rosterOf(user);
    for (const i of items) r.set(i.jid, { ...i, groups: [...i.groups] });
    await this.write(`roster:${user}`, () => this.inner.putItems(user, items));
  }
  async removeItem(user: string, contact: string) {
    this.rosters.get(user)?.delete(contact);
    await this.write(`roster:${user}`, () => this.inner.removeItem(user, contact));
  }
  async setBlocked(user: string, jids: string[], blocked: boolean) {
    let s = this.blocks.get(user);
    if (!s) this.blocks.set(user, (s = new Set()));
    for (const j of jids) (blocked ? s.add(j) : s.delete(j));
    await this.write(`blocks:${user}`, () => this.inner.setBlocked(user, jids, blocked));
  }
  async clearBlocks(user: string) {
    this.blocks.delete(user);
    await this.write(`blocks:${user}`, () => this.inner.clearBlocks(user));
  }
  async storeOffline(user: string, envelope: Envelope) {
    await this.write(`offline:${user}`, () => this.inner.storeOffline(user, envelope));
  }

  /** Stops retrying (the gateway is stopping); what is still queued is reported by the caller. */
  close(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private rosterOf(user: string): Map<string, RosterItem> {
    let r = this.rosters.get(user);
    if (!r) this.rosters.set(user, (r = new Map()));
    return r;
  }

  /** The database's answer, or the copy's when the database is away (undefined: the copy does not know, so the error stands). */
  private async read<T>(fn: () => Promise<T>, copy: () => T | null | undefined): Promise<T> {
    if (this.down) {
      const have = copy();
      if (have !== undefined) return have as T;
    }
    try {
      const v = await this.withTimeout(fn());
      this.up();
      return v;
    } catch (err) {
      if (!isUnavailable(err)) throw err;
      this.markDown(err);
      const have = copy();
      if (have === undefined) throw err;
      return have as T;
    }
  }

  /** Writes in order: once one is queued, later ones queue behind it. */
  private async write(what: string, run: () => Promise<void>): Promise<void> {
    if (!this.queue.length) {
      try {
        await run();
        this.up();
        return;
      } catch (err) {
        if (!isUnavailable(err)) throw err;
        this.markDown(err);
      }
    }
    if (this.queue.length >= (this.opts.maxQueued ?? 10_000)) throw new Error(`database away and ${this.queue.length} changes already waiting for it`);
    this.queue.push({ what, run });
    this.schedule();
  }

  private withTimeout<T>(p: Promise<T>): Promise<T> {
    const ms = this.opts.readTimeoutMs ?? 2_000;
    let t: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => (t = setTimeout(() => reject(new StoreTimeout(`no answer within ${ms} ms`)), ms)));
    return Promise.race([p, timeout]).finally(() => clearTimeout(t));
  }

  private markDown(err: unknown): void {
    if (this.down) return;
    const e = err as { code?: string; message?: string };
    this.down = e.code ?? (e.message ?? "unavailable").split("\n")[0]!;
    this.opts.onStateChange?.(this.down);
    // Probe (or replay) until the database answers again, so reads go back to it.
    this.schedule();
  }

  private up(): void {
    if (!this.down) return;
    this.down = undefined;
    this.opts.onStateChange?.(undefined);
    this.schedule(0);
  }

  private schedule(ms = this.opts.retryMs ?? 2_000): void {
    if (this.timer || (!this.queue.length && !this.down)) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, ms);
    this.timer.unref?.();
  }

  /** Replays queued writes in order; stops at the first that still cannot reach the database. */
  private async flush(): Promise<void> {
    if (this.flushing) return;
    this.flushing = true;
    try {
      // Nothing to replay: ask the database something cheap to learn whether it is back.
      if (!this.queue.length && this.down) await this.withTimeout(this.inner.getUser("")).then(() => this.up(), () => undefined);
      while (this.queue.length) {
        try {
          await this.queue[0]!.run();
        } catch (err) {
          if (isUnavailable(err)) {
            this.markDown(err);
            break;
          }
          // The database refused this change for good: dropping it lets the rest through.
          this.opts.onDropped?.(this.queue[0]!.what, err as Error);
        }
        this.queue.shift();
      }
      if (!this.queue.length && this.down) this.up();
    } finally {
      this.flushing = false;
      this.schedule();
    }
  }
}
