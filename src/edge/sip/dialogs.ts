/**
 * Presence subscription dialogs (RFC 6665 section 4; RFC 3856). Two roles:
 * - notifier: a partner's watcher subscribed to one of our users; we NOTIFY.
 * - subscriber: one of our users watches a partner's user; they NOTIFY us.
 * A dialog is identified by Call-ID and the two tags (RFC 3261 12). Each has
 * an expiry timer; refreshes move it.
 */
import type { Flow } from "./flow.js";

export type DialogRole = "notifier" | "subscriber";
export type SubState = "pending" | "active" | "terminated";

export interface Dialog {
  role: DialogRole;
  callId: string;
  localTag: string;
  remoteTag?: string | undefined;
  /** Our user (bare JID) and the partner's user (bare JID). */
  local: string;
  remote: string;
  localUri: string;
  remoteUri: string;
  /** Where in-dialog requests go (the partner's Contact), for the record. */
  remoteTarget: string;
  partnerDomain: string;
  localCseq: number;
  remoteCseq: number;
  state: SubState;
  expiresAt: number;
  timer?: NodeJS.Timeout | undefined;
  /** The flow the dialog was set up on: reused while it stays open. */
  flow?: Flow | undefined;
}

export class DialogStore {
  private readonly byId = new Map<string, Dialog>();
  /** role|local|remote -> dialogs, so a presence update finds its dialogs without a scan. */
  private readonly byPair = new Map<string, Set<Dialog>>();
  /** role|remote -> dialogs, so a partner user's published state finds our users watching it. */
  private readonly byRemote = new Map<string, Set<Dialog>>();

  constructor(private readonly max: number) {}

  static key(callId: string, localTag: string): string {
    return `${callId}|${localTag}`;
  }

  get size(): number {
    return this.byId.size;
  }

  get(callId: string, localTag: string | undefined): Dialog | undefined {
    return localTag ? this.byId.get(DialogStore.key(callId, localTag)) : undefined;
  }

  add(d: Dialog): boolean {
    if (this.byId.size >= this.max) return false;
    this.byId.set(DialogStore.key(d.callId, d.localTag), d);
    const pk = `${d.role}|${d.local}|${d.remote}`;
    let set = this.byPair.get(pk);
    if (!set) this.byPair.set(pk, (set = new Set()));
    set.add(d);
    const rk = `${d.role}|${d.remote}`;
    let r = this.byRemote.get(rk);
    if (!r) this.byRemote.set(rk, (r = new Set()));
    r.add(d);
    return true;
  }

  /** Sets (or moves) the expiry; onExpire runs once if no refresh comes first. */
  expireIn(d: Dialog, seconds: number, onExpire: (d: Dialog) => void, refreshAt?: number): void {
    if (d.timer) clearTimeout(d.timer);
    d.expiresAt = Date.now() + seconds * 1000;
    const after = Math.max(0, (refreshAt ?? 1) * seconds * 1000);
    d.timer = setTimeout(() => onExpire(d), after).unref();
  }

  remove(d: Dialog): void {
    if (d.timer) clearTimeout(d.timer);
    d.state = "terminated";
    this.byId.delete(DialogStore.key(d.callId, d.localTag));
    const pk = `${d.role}|${d.local}|${d.remote}`;
    const set = this.byPair.get(pk);
    set?.delete(d);
    if (set && set.size === 0) this.byPair.delete(pk);
    const rk = `${d.role}|${d.remote}`;
    const r = this.byRemote.get(rk);
    r?.delete(d);
    if (r && r.size === 0) this.byRemote.delete(rk);
  }

  find(role: DialogRole, local: string, remote: string): Dialog[] {
    return [...(this.byPair.get(`${role}|${local}|${remote}`) ?? [])];
  }

  /** Our users with a dialog of this role towards a partner's user. */
  localsFor(role: DialogRole, remote: string): string[] {
    return [...new Set([...(this.byRemote.get(`${role}|${remote}`) ?? [])].map((d) => d.local))];
  }

  all(): Dialog[] {
    return [...this.byId.values()];
  }

  clear(): void {
    for (const d of this.byId.values()) if (d.timer) clearTimeout(d.timer);
    this.byId.clear();
    this.byPair.clear();
    this.byRemote.clear();
  }
}
