/**
 * The archive's local durable journal. Appends are group-committed: everything
 * queued while the previous fsync ran goes out as one write and one fdatasync,
 * so a burst costs a few milliseconds, not one sync per message. A record is
 * acknowledged to the router only once it is on disk; the writer then reads it
 * back (from memory while the journal still holds it there, journal-recent.ts,
 * else from the files) and, once the database has it, acks a position so
 * whole segments can be deleted.
 *
 * On disk: seg-NNNNNNNN.log files of frames [u32 length][u32 crc32][payload],
 * and a checkpoint file naming the first position not yet in the database. A
 * torn frame at the tail (a crash mid-write, never acknowledged) is truncated
 * on open. The checkpoint is not synced: after a crash the writer may replay a
 * little already-stored data, which the store's idempotent ids skip.
 */
import { EventEmitter } from "node:events";
import { mkdirSync, readdirSync } from "node:fs";
import { open, readFile, rename, stat, truncate, unlink, writeFile, type FileHandle } from "node:fs/promises";
import { join } from "node:path";
import { HEADER, JournalError, segName, type JournalEntry, type Position } from "./journal-format.js";
import { CommitGroup } from "./journal-group.js";
import { SegmentReader } from "./journal-reader.js";
import { RecentEntries } from "./journal-recent.js";

export { JournalError, type JournalEntry, type Position } from "./journal-format.js";

export interface JournalOptions {
  dir: string;
  /** Disk bytes the journal may hold before appends are refused. */
  budgetBytes: number;
  segmentBytes: number;
  /** Extra wait before a commit, to gather a bigger group. */
  commitDelayMs: number;
}

/** Frame bytes of committed entries kept in memory for the writer (journal-recent.ts): some fifty batches ahead of it. */
const RECENT_BYTES = 16 << 20;

export class Journal extends EventEmitter {
  private fh: FileHandle | undefined;
  private segment = 1;
  /** Committed (synced) size of the current segment. */
  private size = 0;
  /** Sizes of complete older segments still on disk. */
  private readonly older = new Map<number, number>();
  /** Appends waiting for the next group commit. */
  private queue: CommitGroup | undefined;
  private flushing: Promise<void> | undefined;
  private closed = false;
  private readonly reader: SegmentReader;
  private readonly recent = new RecentEntries(RECENT_BYTES);
  private checkpoint: Position = { segment: 1, offset: 0 };
  /** Records appended but not yet acked by the writer. */
  pendingRecords = 0;

  private constructor(private readonly opts: JournalOptions) {
    super();
    const view = { current: () => this.segment, limit: (n: number) => (n === this.segment ? this.size : this.older.get(n)) };
    this.reader = new SegmentReader(opts.dir, view, (at) => this.emit("corrupt", at));
  }

  static async open(opts: JournalOptions): Promise<Journal> {
    const j = new Journal(opts);
    await j.recover();
    return j;
  }

  get start(): Position {
    return { ...this.checkpoint };
  }
  get end(): Position {
    return { segment: this.segment, offset: this.size };
  }
  /** Bytes on disk in live segments, which the budget limits. */
  get diskBytes(): number {
    let n = this.size;
    for (const s of this.older.values()) n += s;
    return n;
  }
  /** Bytes appended and waiting for their group commit. */
  get unsyncedBytes(): number {
    return this.queue?.bytes ?? 0;
  }
  /** Bytes not yet in the database (the checkpoint is always in the first live segment). */
  get pendingBytes(): number {
    return this.diskBytes - this.checkpoint.offset;
  }

  private async recover(): Promise<void> {
    mkdirSync(this.opts.dir, { recursive: true, mode: 0o700 });
    const segs = readdirSync(this.opts.dir)
      .map((f) => /^seg-(\d{8})\.log$/.exec(f))
      .filter((m): m is RegExpExecArray => !!m)
      .map((m) => Number(m[1]))
      .sort((a, b) => a - b);
    try {
      const cp = JSON.parse(await readFile(join(this.opts.dir, "checkpoint"), "utf8")) as Position;
      if (Number.isInteger(cp.segment) && Number.isInteger(cp.offset)) this.checkpoint = cp;
    } catch {
      this.checkpoint = { segment: segs[0] ?? 1, offset: 0 };
    }
    for (const s of segs) {
      if (s < this.checkpoint.segment) await unlink(join(this.opts.dir, segName(s)));
    }
    const live = segs.filter((s) => s >= this.checkpoint.segment);
    const last = live[live.length - 1] ?? Math.max(this.checkpoint.segment, 1);
    for (const s of live.slice(0, -1)) this.older.set(s, (await stat(join(this.opts.dir, segName(s)))).size);
    this.segment = last;
    if (!live.includes(last)) this.checkpoint = { segment: last, offset: 0 };
    this.fh = await open(join(this.opts.dir, segName(last)), "a+", 0o600);
    this.size = (await this.fh.stat()).size;
    // Count what is pending, and cut a torn tail off the last segment.
    let pos = this.start;
    for (;;) {
      const { entries, next, torn } = await this.reader.read(pos, 10_000, 8 << 20);
      this.pendingRecords += entries.length;
      if (torn) {
        await this.fh.truncate(next.offset);
        this.size = next.offset;
        this.emit("torn", next);
        break;
      }
      if (entries.length === 0 && next.segment === pos.segment && next.offset === pos.offset) break;
      pos = next;
    }
  }

  /**
   * Resolves once the record is on disk (group commit). `value`, when given,
   * is what a read returns for this entry while it is still in memory, in
   * place of the payload: the same record, not decoded again. Without it a
   * read from memory returns the payload bytes, as a read from disk would.
   */
  append(payload: Buffer | string, value?: unknown): Promise<void> {
    if (this.closed) return Promise.reject(new JournalError("closed", "archive journal is closed"));
    const length = typeof payload === "string" ? Buffer.byteLength(payload, "utf8") : payload.length;
    if (this.diskBytes + this.unsyncedBytes + HEADER + length > this.opts.budgetBytes) {
      return Promise.reject(new JournalError("budget", `archive journal disk budget of ${this.opts.budgetBytes} bytes is spent`));
    }
    const group = (this.queue ??= new CommitGroup());
    group.add(payload, length, value);
    this.kick();
    return group.done;
  }

  private kick(): void {
    if (this.flushing) return;
    this.flushing = this.flush().finally(() => {
      this.flushing = undefined;
      // An append may have queued after the loop's last look but before this ran.
      if (this.queue) this.kick();
    });
  }

  private async flush(): Promise<void> {
    if (this.opts.commitDelayMs > 0) await new Promise((r) => setTimeout(r, this.opts.commitDelayMs));
    while (this.queue) {
      const group = this.queue;
      this.queue = undefined;
      const buf = group.encode();
      // Where a reader stands before this group: on a roll, the end of the segment just completed.
      const start = this.end;
      try {
        if (this.size >= this.opts.segmentBytes) await this.roll();
        let written = 0;
        while (written < buf.length) {
          const { bytesWritten } = await this.fh!.write(buf, written, buf.length - written, this.size + written);
          written += bytesWritten;
        }
        await this.fh!.datasync();
      } catch (err) {
        const e = err as NodeJS.ErrnoException;
        // Cut the partial write so the next group starts on a frame boundary.
        await this.fh?.truncate(this.size).catch(() => undefined);
        group.reject(new JournalError("write", `archive journal write failed: ${e.code ?? e.message}`));
        continue;
      }
      this.remember(group, start, buf);
      this.size += buf.length;
      this.pendingRecords += group.size;
      group.resolve();
      this.emit("commit");
    }
  }

  private async roll(): Promise<void> {
    await this.fh!.close();
    this.older.set(this.segment, this.size);
    this.segment += 1;
    this.size = 0;
    this.fh = await open(join(this.opts.dir, segName(this.segment)), "a+", 0o600);
    // Make the new file's directory entry durable before anything in it is acknowledged.
    const dir = await open(this.opts.dir, "r");
    await dir.sync().finally(() => dir.close());
  }

  /**
   * Entries of a synced group, at the positions they were written to, for
   * reads that come soon after. The first starts where a reader stands after
   * the previous group, even across a segment roll. An entry appended without
   * a value is held as its payload bytes in the group's buffer: a view costs
   * the collector far less than a string kept alive until the writer takes it.
   */
  private remember(group: CommitGroup, start: Position, buf: Buffer): void {
    let from = start;
    let offset = this.size;
    let at = 0;
    for (let i = 0; i < group.size; i++) {
      const bytes = HEADER + group.lengths[i]!;
      offset += bytes;
      const end = { segment: this.segment, offset };
      const value = group.values[i];
      this.recent.add(from, end, value, value === undefined ? buf.subarray(at + HEADER, at + bytes) : undefined, bytes);
      at += bytes;
      from = end;
    }
  }

  /** Reads committed entries from a position: from memory while it still holds them, else from disk. */
  async read(from: Position, maxEntries: number, maxBytes = 4 << 20): Promise<{ entries: JournalEntry[]; next: Position }> {
    const held = this.recent.take(from, maxEntries, maxBytes);
    if (held) return { entries: held, next: held[held.length - 1]!.end };
    const { entries, next } = await this.reader.read(from, maxEntries, maxBytes);
    return { entries, next };
  }

  /** The writer stored everything before `to` (count records): drop what is no longer needed. */
  async ack(to: Position, count: number): Promise<void> {
    this.checkpoint = { ...to };
    this.pendingRecords = Math.max(0, this.pendingRecords - count);
    const tmp = join(this.opts.dir, "checkpoint.tmp");
    await writeFile(tmp, JSON.stringify(to), { mode: 0o600 });
    await rename(tmp, join(this.opts.dir, "checkpoint"));
    for (const s of [...this.older.keys()]) {
      if (s < to.segment) {
        this.older.delete(s);
        await unlink(join(this.opts.dir, segName(s))).catch(() => undefined);
      }
    }
  }

  /** Refuses later appends and waits for queued ones to commit; reading goes on. */
  async seal(): Promise<void> {
    this.closed = true;
    while (this.flushing) await this.flushing;
  }

  async close(): Promise<void> {
    await this.seal();
    await this.fh?.close();
    this.fh = undefined;
    await this.reader.close();
    this.recent.clear();
  }
}

/** For tests: cut a segment to simulate a torn write. */
export async function truncateSegment(dir: string, segment: number, size: number): Promise<void> {
  await truncate(join(dir, segName(segment)), size);
}
