/**
 * The Archiver the router calls: a record is journaled (group commit) and the
 * router waits only for that, never for the database. If the journal cannot
 * take it (budget spent, disk full, write error) the message is refused (fail
 * closed) unless the configuration says to deliver it unarchived; either way a
 * counter and an error log line say which happened.
 */
import type { Logger } from "../log.js";
import type { Envelope } from "../model/envelope.js";
import type { Archiver, Decision } from "../model/route.js";
import { Journal, JournalError, type JournalOptions } from "./journal.js";
import { archiveKeeps, type KeptKinds } from "./keeps.js";
import { toRecord } from "./record.js";
import { storeSink, type ArchiveSink } from "./sink.js";
import type { ArchiveStore } from "./store.js";
import { ArchiveWriter } from "./writer.js";

export interface ArchiveServiceOptions {
  journal: JournalOptions;
  batch: number;
  retryMaxMs: number;
  /** refuse: fail closed; deliver: let the message through unarchived. */
  onJournalFailure: "refuse" | "deliver";
  /** Envelope kinds archived (others only when a verdict intervened), read for each envelope; see keeps.ts. */
  kinds: KeptKinds;
  /** Bytes waiting for the database at which streams are paused (back-pressure), below the budget. */
  pauseBytes?: number | undefined;
  /**
   * Where the writer stores batches (sink.ts); the store on this thread when
   * absent. The service owns it: close ends it.
   */
  sink?: ArchiveSink | undefined;
  log: Logger;
}

/** Appended bytes still waiting for their fsync at which streams stop reading: the disk is the bottleneck. */
const UNSYNCED_PAUSE_BYTES = 32 << 20;

export class ArchiveService implements Archiver {
  /** Refusals (fail closed) and unarchived deliveries (fail open), by reason. */
  readonly failures = { refused: new Map<string, number>(), deliveredUnarchived: new Map<string, number>() };
  journalError: string | undefined;

  private constructor(
    readonly store: ArchiveStore,
    readonly journal: Journal,
    readonly writer: ArchiveWriter,
    readonly sink: ArchiveSink,
    private readonly opts: ArchiveServiceOptions,
  ) {}

  static async open(store: ArchiveStore, opts: ArchiveServiceOptions): Promise<ArchiveService> {
    const journal = await Journal.open(opts.journal);
    journal.on("torn", (at) => opts.log.warn({ at }, "archive journal: cut an unacknowledged torn write at its tail"));
    journal.on("corrupt", (at) => opts.log.error({ at }, "ARCHIVE JOURNAL DAMAGED: the rest of a segment is unreadable"));
    if (journal.pendingRecords > 0) {
      opts.log.warn({ records: journal.pendingRecords, bytes: journal.pendingBytes }, "archive journal: replaying records not yet in the database");
    }
    const sink = opts.sink ?? storeSink(store);
    const writer = new ArchiveWriter(journal, sink, { batch: opts.batch, retryMaxMs: opts.retryMaxMs, log: opts.log });
    const svc = new ArchiveService(store, journal, writer, sink, opts);
    writer.start();
    return svc;
  }

  /**
   * The journal or the database is behind: streams stop reading until it
   * catches up, so a slow disk or a long database outage slows partners
   * down instead of spending the budget and refusing their messages.
   */
  congested(): boolean {
    const pauseBytes = this.opts.pauseBytes ?? Math.floor(this.opts.journal.budgetBytes * 0.75);
    return this.journal.pendingBytes >= pauseBytes || this.journal.unsyncedBytes >= UNSYNCED_PAUSE_BYTES;
  }

  /** Whether the archive keeps this envelope (keeps.ts), by the kinds in force now. */
  keeps(kind: string, decision: Decision): boolean {
    return archiveKeeps(this.opts.kinds(), kind, decision);
  }

  async record(original: Envelope, decision: Decision): Promise<void> {
    if (!this.keeps(original.kind, decision)) return;
    const rec = toRecord(original, decision);
    const text = JSON.stringify(rec);
    try {
      await this.journal.append(text, this.sink.holds === "record" ? rec : undefined);
      this.journalError = undefined;
    } catch (err) {
      const reason = err instanceof JournalError ? err.reason : "write";
      this.journalError = (err as Error).message;
      const failOpen = this.opts.onJournalFailure === "deliver" && reason !== "closed";
      const tally = failOpen ? this.failures.deliveredUnarchived : this.failures.refused;
      tally.set(reason, (tally.get(reason) ?? 0) + 1);
      const fields = { id: original.id, reason, err: (err as Error).message, diskBytes: this.journal.diskBytes };
      if (failOpen) {
        this.opts.log.error(fields, "ARCHIVE JOURNAL FAILED: delivering WITHOUT archiving (archive.on_journal_failure: deliver)");
        return;
      }
      this.opts.log.error(fields, "archive journal failed: refusing delivery (fail closed)");
      throw err;
    }
  }

  /** Refuses new records, drains to the database for up to drainMs; the rest is replayed at next start. */
  async close(drainMs: number): Promise<void> {
    await this.journal.seal();
    await this.writer.stop(drainMs);
    await this.sink.close();
    await this.journal.close();
    const left = this.journal.pendingRecords;
    if (left > 0) this.opts.log.warn({ records: left }, "archive: records left in the journal; they are written at next start");
  }
}
