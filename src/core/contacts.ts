/**
 * Who has whom on their roster, kept as rosters change: contact bare JID ->
 * the users whose roster holds an item for it. A partner user's presence then
 * reaches its watchers by looking at those few users instead of every roster
 * in the working set.
 */
import type { RosterItem } from "./types.js";

export class ContactIndex {
  private readonly owners = new Map<string, Set<string>>();

  add(owner: string, contact: string): void {
    let set = this.owners.get(contact);
    if (!set) this.owners.set(contact, (set = new Set()));
    set.add(owner);
  }

  remove(owner: string, contact: string): void {
    const set = this.owners.get(contact);
    if (!set) return;
    set.delete(owner);
    if (set.size === 0) this.owners.delete(contact);
  }

  /** Users with an item for `contact` on their roster (any subscription state). */
  ownersOf(contact: string): ReadonlySet<string> {
    return this.owners.get(contact) ?? EMPTY;
  }
}

const EMPTY: ReadonlySet<string> = new Set();

/** A user's roster that keeps the ContactIndex in step with every change. */
export class Roster extends Map<string, RosterItem> {
  constructor(
    private readonly owner: string,
    private readonly index: ContactIndex | undefined,
  ) {
    super();
  }

  override set(contact: string, item: RosterItem): this {
    this.index?.add(this.owner, contact);
    return super.set(contact, item);
  }

  override delete(contact: string): boolean {
    this.index?.remove(this.owner, contact);
    return super.delete(contact);
  }

  override clear(): void {
    for (const contact of this.keys()) this.index?.remove(this.owner, contact);
    super.clear();
  }
}
