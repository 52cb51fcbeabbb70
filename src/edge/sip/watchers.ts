/**
 * Who among our users watches a partner's user: those whose roster has a
 * subscription to that user (RFC 6121 "to" or "both") and who are online, as
 * the core answers it, and those with a SIP subscription dialog towards it.
 * Users not in memory are offline and get the state from the probe the core
 * sends when they come online.
 */
import type { SipEdge } from "./edge.js";

export interface WatcherDirectory {
  /** Online hosted users subscribed to the presence of `presentity` (a bare JID). */
  watchersOf(presentity: string): Iterable<string>;
}

export function watchersOf(edge: SipEdge, directory: WatcherDirectory | undefined, presentity: string): string[] {
  const out = new Set(edge.dialogs.localsFor("subscriber", presentity));
  for (const jid of directory?.watchersOf(presentity) ?? []) out.add(jid);
  return [...out];
}
