/**
 * The journal's on-disk format and the names the other journal units share.
 * Segment files seg-NNNNNNNN.log hold frames [u32 length][u32 crc32][payload],
 * big-endian; a position is a segment and a byte offset in it.
 */
import { DemarcError } from "../errors.js";

export const HEADER = 8;
export const MAX_FRAME = 64 << 20;

export interface Position {
  segment: number;
  offset: number;
}

export interface JournalEntry {
  /** The frame's payload as read from disk; absent when `value` came from memory. */
  payload?: Buffer | undefined;
  /** What the appender handed in beside the payload, for entries read back while still in memory. */
  value?: unknown;
  /** Position just after this entry. */
  end: Position;
}

/** The journal cannot take a record: the caller fails closed (or open, if configured). */
export class JournalError extends DemarcError {
  constructor(
    readonly reason: "budget" | "write" | "closed",
    message: string,
  ) {
    super("E_ARCHIVE_JOURNAL", { detail: message });
  }
}

export const segName = (n: number): string => `seg-${String(n).padStart(8, "0")}.log`;

export function samePosition(a: Position, b: Position): boolean {
  return a.segment === b.segment && a.offset === b.offset;
}

/** Whether a comes at or before b. */
export function atOrBefore(a: Position, b: Position): boolean {
  return a.segment < b.segment || (a.segment === b.segment && a.offset <= b.offset);
}
