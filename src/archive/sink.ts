/**
 * Where the archive writer's batches and the delivery outcomes are written.
 * Over a SQLite file that is a worker thread with a connection of its own
 * (append-worker.ts), so the inserts, the hash chain and the commits run off
 * the event loop; elsewhere (PostgreSQL, whose work is mostly the server's,
 * and SQLite :memory:, which one connection cannot share with another) it is
 * the store itself, on this thread. Either way the records go through the one
 * append of their dialect (sqlite-append.ts, pg-append.ts); open-sink.ts
 * picks one for a database.
 */
import type { OutcomeEntry } from "../model/outcome.js";
import type { JournalEntry } from "./journal-format.js";
import { isArchiveRecord, type ArchiveRecord } from "./record.js";
import type { ArchiveStore } from "./store.js";

export interface SinkResult {
  inserted: number;
  skipped: number;
  /** Indices in the batch of entries that were not records (skipped; a bug, not data). */
  invalid: number[];
}

export interface ArchiveSink {
  /**
   * What the journal should keep in memory for a record it wrote, for this
   * sink to take back: its payload bytes (cheap to hand to a thread, and no
   * string kept alive on this one) or the record object (nothing to decode
   * on this thread).
   */
  readonly holds: "payload" | "record";
  /** Stores the records of these journal entries not stored yet, in order, extending the hash chain. */
  append(entries: JournalEntry[]): Promise<SinkResult>;
  writeOutcomes(entries: OutcomeEntry[]): Promise<void>;
  /** Ends what the sink started (a worker thread); bounded. */
  close(): Promise<void>;
}

/** An entry's JSON text: as held in memory, or its payload read from disk. */
export function entryText(e: JournalEntry): string {
  if (typeof e.value === "string") return e.value;
  return e.payload ? e.payload.toString("utf8") : JSON.stringify(e.value);
}

/**
 * Entries' JSON texts as one buffer of UTF-8 and the byte length of each, for
 * a thread: one copy of the bytes, transferable, instead of a string per
 * record to clone.
 */
export function entryBytes(entries: JournalEntry[]): { bytes: Buffer; lengths: number[]; buffer: ArrayBuffer } {
  const parts = entries.map((e) => e.payload ?? Buffer.from(entryText(e), "utf8"));
  const lengths = parts.map((p) => p.length);
  // Not from the shared pool: its ArrayBuffer is handed over whole.
  const buffer = new ArrayBuffer(lengths.reduce((a, b) => a + b, 0));
  const bytes = Buffer.from(buffer);
  let at = 0;
  for (const p of parts) at += p.copy(bytes, at);
  return { bytes, lengths, buffer };
}

/** The JSON texts entryBytes packed. */
export function textsOf(bytes: Uint8Array, lengths: number[]): string[] {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const texts = new Array<string>(lengths.length);
  let at = 0;
  for (let i = 0; i < lengths.length; i++) {
    texts[i] = buf.toString("utf8", at, at + lengths[i]!);
    at += lengths[i]!;
  }
  return texts;
}

/** The records among JSON texts, and the indices of texts that are not records. */
export function decodeRecords(texts: string[]): { records: ArchiveRecord[]; invalid: number[] } {
  const records: ArchiveRecord[] = [];
  const invalid: number[] = [];
  texts.forEach((text, i) => {
    let rec: unknown;
    try {
      rec = JSON.parse(text);
    } catch {
      rec = undefined;
    }
    if (isArchiveRecord(rec)) records.push(rec);
    else invalid.push(i);
  });
  return { records, invalid };
}

/** When the oldest record of a batch was received, for the writer's lag; undefined if it cannot tell. */
export function receivedAt(e: JournalEntry | undefined): number | undefined {
  if (!e) return undefined;
  if (typeof e.value === "object" && e.value !== null) return (e.value as ArchiveRecord).ts;
  try {
    const ts = (JSON.parse(entryText(e)) as { ts?: unknown }).ts;
    return typeof ts === "number" ? ts : undefined;
  } catch {
    return undefined;
  }
}

/** The store on this thread; outcomes through `outcomes`, if given. */
export function storeSink(store: ArchiveStore, outcomes?: (entries: OutcomeEntry[]) => Promise<void>): ArchiveSink {
  return {
    holds: "record",
    async append(entries) {
      const records: ArchiveRecord[] = [];
      const invalid: number[] = [];
      entries.forEach((e, i) => {
        let rec: unknown = e.value;
        if (rec === undefined || typeof rec === "string") {
          const d = decodeRecords([entryText(e)]);
          rec = d.records[0];
        }
        if (isArchiveRecord(rec)) records.push(rec);
        else invalid.push(i);
      });
      const r = records.length ? await store.append(records) : { inserted: 0, skipped: 0 };
      return { ...r, invalid };
    },
    async writeOutcomes(entries) {
      if (!outcomes) throw new Error("archive: no database for delivery outcomes");
      await outcomes(entries);
    },
    async close() {},
  };
}
