/**
 * Entries committed to the journal and still held in memory, with the value
 * their appender handed in or else their payload bytes: the writer takes them
 * from here instead of reading the segment back. Only what is on disk (synced)
 * is held, so the writer never sees more than a read would give. Entries that
 * come while the byte budget is spent (the database is behind) and everything
 * after a restart are read from disk: a take stops where the held entries stop
 * following one another.
 */
import { atOrBefore, samePosition, type JournalEntry, type Position } from "./journal-format.js";

interface Held {
  start: Position;
  end: Position;
  value: unknown;
  /** The payload as written, for an entry appended without a value (a view of the group's buffer, not a copy). */
  payload: Buffer | undefined;
  bytes: number;
}

export class RecentEntries {
  private held: Held[] = [];
  /** Index of the first entry not yet passed by a reader. */
  private head = 0;
  private bytes = 0;

  constructor(private readonly budgetBytes: number) {}

  /** A committed entry, in journal order; over budget it is left to disk, and the oldest, needed first, stay. */
  add(start: Position, end: Position, value: unknown, payload: Buffer | undefined, bytes: number): void {
    if (this.bytes + bytes > this.budgetBytes) return;
    this.held.push({ start, end, value, payload, bytes });
    this.bytes += bytes;
  }

  clear(): void {
    this.held = [];
    this.head = 0;
    this.bytes = 0;
  }

  /**
   * Entries from `from` on, if memory holds the one that starts there; those
   * before it are let go. A reader that reads the same position again (a
   * batch retried) gets the same entries.
   */
  take(from: Position, maxEntries: number, maxBytes: number): JournalEntry[] | undefined {
    while (this.head < this.held.length && atOrBefore(this.held[this.head]!.end, from)) {
      this.bytes -= this.held[this.head]!.bytes;
      this.head++;
    }
    if (this.head > 1024 && this.head * 2 > this.held.length) {
      this.held = this.held.slice(this.head);
      this.head = 0;
    }
    const first = this.held[this.head];
    if (!first || !samePosition(first.start, from)) return undefined;
    const out: JournalEntry[] = [];
    let bytes = 0;
    let at = from;
    for (let i = this.head; i < this.held.length && out.length < maxEntries && bytes < maxBytes; i++) {
      const h = this.held[i]!;
      if (!samePosition(h.start, at)) break;
      out.push(h.payload ? { payload: h.payload, end: h.end } : { value: h.value, end: h.end });
      at = h.end;
      bytes += h.bytes;
    }
    return out;
  }
}
