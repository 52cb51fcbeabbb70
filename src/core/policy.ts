/**
 * Presence policy: who may watch whom. Users belong to presence groups (from
 * the config's member lists or their own account record); ordered watch rules
 * between groups allow or deny watching, first match wins, then the default.
 * Per-user block lists (XEP-0191 semantics) are checked beside the rules.
 */
import { foldAddress } from "../model/precis.js";

export interface WatchRule {
  /** Group of the watcher, or "*" for anyone. */
  watcher: string;
  /** Group of the user being watched, or "*". */
  watched: string;
  allow: boolean;
}

export interface PolicyConfig {
  groups: Record<string, { members: string[] }>;
  watchRules: WatchRule[];
  defaultAllow: boolean;
  /** The gateway's group directory (config, accounts, policy files): its groups count beside `groups`. */
  directory?: { groupsOf(bare: string): string[] } | undefined;
  /**
   * Whether an ethical wall of the compliance policy stands between the two
   * bare JIDs for presence: presence between hosted users is broadcast by the
   * core, not routed, so the core asks the walls itself.
   */
  walled?: ((watcher: string, watched: string) => boolean) | undefined;
}

export type WatchVerdict = { allowed: true } | { allowed: false; reason: string };

export class PresencePolicy {
  private readonly exact = new Map<string, string[]>();
  /** "*@domain" members: everyone at that domain. */
  private readonly byDomain = new Map<string, string[]>();

  constructor(private readonly cfg: PolicyConfig) {
    for (const [name, g] of Object.entries(cfg.groups)) {
      for (const raw of g.members) {
        // Addresses are prepared (RFC 7622 PRECIS) before they are compared: the group list is folded the same way.
        const m = foldAddress(raw);
        const map = m.startsWith("*@") ? this.byDomain : this.exact;
        const key = m.startsWith("*@") ? m.slice(2) : m;
        map.set(key, [...(map.get(key) ?? []), name]);
      }
    }
  }

  static allowAll(): PresencePolicy {
    return new PresencePolicy({ groups: {}, watchRules: [], defaultAllow: true });
  }

  /** Nothing to check: no watch rules, watching allowed, no walls to ask. */
  get isTrivial(): boolean {
    return this.rulesTrivial && !this.cfg.walled;
  }

  /** No watch rules and watching allowed: group membership need not be worked out. */
  get rulesTrivial(): boolean {
    return this.cfg.watchRules.length === 0 && this.cfg.defaultAllow;
  }

  /** Groups of a bare JID: config membership, the directory's groups and the group on the account record. */
  groupsOf(bare: string, accountGroup?: string | undefined): string[] {
    const at = bare.indexOf("@");
    const domain = at >= 0 ? bare.slice(at + 1) : bare;
    const out = new Set([...(this.exact.get(bare) ?? []), ...(this.byDomain.get(domain) ?? []), ...(this.cfg.directory?.groupsOf(bare) ?? [])]);
    if (accountGroup) out.add(accountGroup);
    return [...out];
  }

  /** An ethical wall stands between watcher and watched (either way round, as the wall says). */
  walled(watcher: string, watched: string): boolean {
    return this.cfg.walled?.(watcher, watched) ?? false;
  }

  mayWatch(watcherGroups: string[], watchedGroups: string[]): WatchVerdict {
    if (this.rulesTrivial) return { allowed: true };
    for (const r of this.cfg.watchRules) {
      const w = r.watcher === "*" || watcherGroups.includes(r.watcher);
      const t = r.watched === "*" || watchedGroups.includes(r.watched);
      if (w && t) {
        return r.allow ? { allowed: true } : { allowed: false, reason: `presence policy: ${r.watcher} may not watch ${r.watched}` };
      }
    }
    return this.cfg.defaultAllow ? { allowed: true } : { allowed: false, reason: "presence policy: watching is not allowed by default" };
  }
}
