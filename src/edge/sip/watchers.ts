/**
 * Who among our users watches a partner's user: those whose roster has a
 * subscription to that user (RFC 6121 "to" or "both") and who are online, and
 * those with a SIP subscription dialog towards it. The core is read through
 * the small structural view below, so the edge needs nothing of it beyond its
 * user directory; users not in memory are offline and get the state from the
 * probe the core sends when they come online.
 */
import type { SipEdge } from "./edge.js";

export interface WatcherDirectory {
  users: {
    values(): Iterable<{ jid: string; readonly online: boolean; roster: ReadonlyMap<string, { subscription: string }> }>;
  };
}

export function watchersOf(edge: SipEdge, directory: WatcherDirectory | undefined, presentity: string): string[] {
  const out = new Set(edge.dialogs.localsFor("subscriber", presentity));
  if (directory) {
    for (const u of directory.users.values()) {
      const sub = u.roster.get(presentity)?.subscription;
      if ((sub === "to" || sub === "both") && u.online) out.add(u.jid);
    }
  }
  return [...out];
}
