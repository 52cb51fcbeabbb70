/**
 * Moves committed journal records into the database in batches. The single
 * writer is what keeps the hash chain sequential. When the database fails it
 * retries the same batch with backoff while the journal grows; when it comes
 * back the backlog drains. Records are acked to the journal only after the
 * sink (sink.ts: the store, or a thread of its own over a SQLite file)
 * committed them, and it skips rids it has, so a crash anywhere in between
 * stores each record exactly once. A thread that fails is a database error.
 */
import type { Logger } from "../log.js";
import type { Journal, Position } from "./journal.js";
import { receivedAt, type ArchiveSink, type SinkResult } from "./sink.js";

export interface WriterOptions {
  batch: number;
  retryMaxMs: number;
  log: Logger;
}

export class ArchiveWriter {
  dbUp = true;
  written = 0;
  /** receivedAt of the oldest record not yet in the database. */
  private headTs: number | undefined;
  private cursor: Position;
  private running: Promise<void> | undefined;
  private stopping = false;
  private wake: (() => void) | undefined;
  private downSince = 0;
  private lastDownLog = 0;
  private acking: Promise<void> = Promise.resolve();

  constructor(
    private readonly journal: Journal,
    private readonly sink: ArchiveSink,
    private readonly opts: WriterOptions,
  ) {
    this.cursor = journal.start;
    journal.on("commit", () => this.wake?.());
  }

  /** Seconds the oldest pending record has waited for the database. */
  get lagSeconds(): number {
    return this.journal.pendingRecords > 0 && this.headTs !== undefined ? Math.max(0, (Date.now() - this.headTs) / 1000) : 0;
  }

  start(): void {
    this.running ??= this.loop();
  }

  private sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const t = setTimeout(done, ms);
      function done() {
        clearTimeout(t);
        resolve();
      }
      this.wake = done;
    }).then(() => {
      this.wake = undefined;
    });
  }

  private async loop(): Promise<void> {
    while (!this.stopping) {
      try {
        await this.drain();
      } catch (err) {
        // A journal read or checkpoint failure: never let the writer die; retry after a pause.
        this.opts.log.error({ err: (err as Error).message }, "archive writer error; retrying");
        await this.sleep(1000);
      }
    }
  }

  private async drain(): Promise<void> {
    let backoff = 50;
    while (!this.stopping) {
      const { entries, next } = await this.journal.read(this.cursor, this.opts.batch);
      if (entries.length === 0) {
        this.headTs = undefined;
        await this.acking;
        if (next.segment !== this.cursor.segment || next.offset !== this.cursor.offset) {
          await this.journal.ack(next, 0);
          this.cursor = next;
          continue;
        }
        await this.sleep(1000);
        continue;
      }
      this.headTs = receivedAt(entries[0]);
      let result: SinkResult;
      try {
        result = await this.sink.append(entries);
      } catch (err) {
        // A stop ends the sink under a batch in flight: that batch stays in the journal.
        if (this.stopping) break;
        this.down(err as Error);
        await this.sleep(backoff);
        backoff = Math.min(backoff * 2, this.opts.retryMaxMs);
        continue;
      }
      for (const i of result.invalid) this.opts.log.error({ at: entries[i]!.end }, "archive journal entry is not a record; skipped");
      backoff = 50;
      this.up();
      this.written += entries.length - result.invalid.length;
      // The checkpoint write overlaps the next batch's read and insert; acks still go out one at a time, in order.
      await this.acking;
      this.acking = this.journal.ack(next, entries.length).catch((err: Error) => {
        // The records are stored; a checkpoint not written only means a little replay, which ids skip.
        this.opts.log.error({ err: err.message }, "archive journal checkpoint not written");
      });
      this.cursor = next;
    }
  }

  private down(err: Error): void {
    const now = Date.now();
    const fields = {
      err: err.message.split("\n")[0],
      pendingRecords: this.journal.pendingRecords,
      pendingBytes: this.journal.pendingBytes,
      diskBytes: this.journal.diskBytes,
    };
    if (this.dbUp) {
      this.dbUp = false;
      this.downSince = now;
      this.lastDownLog = now;
      this.opts.log.error(fields, "ARCHIVE DATABASE UNAVAILABLE: records are kept in the journal until it returns");
    } else if (now - this.lastDownLog >= 10_000) {
      this.lastDownLog = now;
      this.opts.log.error({ ...fields, downForS: Math.round((now - this.downSince) / 1000) }, "archive database still unavailable; journal growing");
    }
  }

  private up(): void {
    if (this.dbUp) return;
    this.dbUp = true;
    this.opts.log.warn(
      { pendingRecords: this.journal.pendingRecords, downForS: Math.round((Date.now() - this.downSince) / 1000) },
      "archive database is back; draining the journal",
    );
  }

  /** Drains what the journal holds into the database for up to drainMs, then stops. */
  async stop(drainMs: number): Promise<void> {
    const deadline = Date.now() + drainMs;
    while (this.journal.pendingRecords > 0 && this.dbUp && Date.now() < deadline) {
      this.wake?.();
      await new Promise((r) => setTimeout(r, 10));
    }
    this.stopping = true;
    this.wake?.();
    // A database that hangs mid-batch must not hold shutdown: the batch stays in the journal.
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<void>((r) => (timer = setTimeout(r, Math.max(0, deadline - Date.now()) + 1000)));
    await Promise.race([this.running, grace]);
    clearTimeout(timer);
    await this.acking;
    this.running = undefined;
  }
}
