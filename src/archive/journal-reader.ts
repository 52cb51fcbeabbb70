/**
 * Reads committed frames back from the segment files, checking each frame's
 * length and CRC. A bad frame at the tail of the segment being written is a
 * torn write that was never acknowledged; in an older, complete segment it is
 * damage on disk: the rest of that segment is unreadable, the reader says so
 * (onCorrupt) and goes on with the next segment.
 */
import { open, type FileHandle } from "node:fs/promises";
import { join } from "node:path";
import { crc32 } from "node:zlib";
import { HEADER, MAX_FRAME, segName, type JournalEntry, type Position } from "./journal-format.js";

/** What the journal knows of its segments: the one being written and the committed size of each. */
export interface SegmentView {
  current(): number;
  /** Committed bytes of a live segment; undefined for one that is gone. */
  limit(segment: number): number | undefined;
}

export interface ReadResult {
  entries: JournalEntry[];
  next: Position;
  torn: boolean;
}

export class SegmentReader {
  /** The reader's own handle, so a segment roll never closes a file under a read. */
  private handle: { segment: number; fh: FileHandle } | undefined;

  constructor(
    private readonly dir: string,
    private readonly view: SegmentView,
    private readonly onCorrupt: (at: Position) => void,
  ) {}

  async read(from: Position, maxEntries: number, maxBytes: number): Promise<ReadResult> {
    let pos = { ...from };
    const entries: JournalEntry[] = [];
    let bytes = 0;
    while (entries.length < maxEntries && bytes < maxBytes) {
      const limit = this.view.limit(pos.segment);
      if (limit === undefined) break;
      if (pos.offset >= limit) {
        if (pos.segment >= this.view.current()) break;
        pos = { segment: pos.segment + 1, offset: 0 };
        continue;
      }
      const fh = await this.fileOf(pos.segment);
      const want = Math.min(limit - pos.offset, Math.max(maxBytes - bytes, HEADER), 8 << 20);
      const chunk = Buffer.allocUnsafe(want);
      const { bytesRead } = await fh.read(chunk, 0, want, pos.offset);
      let at = 0;
      while (at + HEADER <= bytesRead && entries.length < maxEntries) {
        const len = chunk.readUInt32BE(at);
        if (len > MAX_FRAME || pos.offset + at + HEADER + len > limit) return this.damaged(entries, { segment: pos.segment, offset: pos.offset + at });
        let payload: Buffer;
        if (at + HEADER + len <= bytesRead) {
          payload = chunk.subarray(at + HEADER, at + HEADER + len);
        } else if (at === 0) {
          payload = Buffer.allocUnsafe(len);
          await fh.read(payload, 0, len, pos.offset + HEADER);
        } else break;
        if (crc32(payload) !== chunk.readUInt32BE(at + 4)) return this.damaged(entries, { segment: pos.segment, offset: pos.offset + at });
        at += HEADER + len;
        bytes += HEADER + len;
        // A view into this read's own chunk: nothing else writes to it.
        entries.push({ payload, end: { segment: pos.segment, offset: pos.offset + at } });
      }
      if (at === 0 && bytesRead < HEADER) return this.damaged(entries, pos);
      pos = { segment: pos.segment, offset: pos.offset + at };
    }
    return { entries, next: pos, torn: false };
  }

  private async fileOf(segment: number): Promise<FileHandle> {
    if (this.handle?.segment === segment) return this.handle.fh;
    await this.close();
    const fh = await open(join(this.dir, segName(segment)), "r");
    this.handle = { segment, fh };
    return fh;
  }

  private damaged(entries: JournalEntry[], at: Position): ReadResult {
    if (at.segment === this.view.current()) return { entries, next: at, torn: true };
    this.onCorrupt(at);
    return { entries, next: { segment: at.segment + 1, offset: 0 }, torn: false };
  }

  async close(): Promise<void> {
    await this.handle?.fh.close().catch(() => undefined);
    this.handle = undefined;
  }
}
