/**
 * Delivery outcomes (migration 050_outcomes): the recorder the router and the
 * quarantine desk call, and the reads that searches and views join. The
 * gateway's recorder queues and writes in batches off the message path: the
 * record itself is already durable in the journal, and an outcome arrives
 * after delivery, so it must never hold a message up. A database that is
 * away is retried; past MAX_QUEUED the oldest outcomes are dropped and counted.
 */
import type { Db } from "./db.js";
import type { Logger } from "../log.js";
import type { DeliveryOutcome, OutcomeEntry, OutcomeRecorder } from "../model/outcome.js";

export { OUTCOMES, type DeliveryOutcome, type OutcomeEntry, type OutcomeRecorder } from "../model/outcome.js";

export const MAX_QUEUED = 100_000;
const BATCH = 500;
/**
 * How long a short queue waits for more outcomes before it is written: one
 * insert (and on SQLite one commit) per handful of deliveries costs the
 * event loop more than the deliveries themselves at line rate.
 */
const GATHER_MS = 50;

const row = (e: OutcomeEntry) => ({ msg_id: e.msgId, at: e.at, outcome: e.outcome, condition: e.condition ?? null, detail: e.detail ?? null });

/** Writes one outcome now (the CLI: a rejection made where no gateway runs). */
export async function writeOutcome(db: Db, e: OutcomeEntry): Promise<void> {
  await db("archive_outcome").insert(row(e));
}

export class OutcomeLog implements OutcomeRecorder {
  private queue: OutcomeEntry[] = [];
  private running: Promise<void> | undefined;
  private backoffMs = 0;
  private gather: NodeJS.Timeout | undefined;
  dropped = 0;

  /** `write` stores one batch: the archive sink's (open-sink.ts), off this thread over a SQLite file. */
  constructor(private readonly write: (batch: OutcomeEntry[]) => Promise<void>, private readonly log: Logger) {}

  record(entry: OutcomeEntry): void {
    if (this.queue.length >= MAX_QUEUED) {
      this.queue.shift();
      if (this.dropped++ % 1000 === 0) this.log.error({ dropped: this.dropped }, "archive outcomes: queue full; dropping the oldest");
    }
    this.queue.push(entry);
    this.schedule();
  }

  /** A full batch is written now; a shorter queue waits GATHER_MS for company. */
  private schedule(): void {
    if (this.queue.length >= BATCH) return this.kick();
    this.gather ??= setTimeout(() => {
      this.gather = undefined;
      this.kick();
    }, GATHER_MS);
  }

  /** Starts a writer unless one runs; one that ends with entries left (queued as it wrote) schedules the next. */
  private kick(): void {
    clearTimeout(this.gather);
    this.gather = undefined;
    this.running ??= this.drain().finally(() => {
      this.running = undefined;
      if (this.queue.length) this.schedule();
    });
  }

  /** Waits until everything queued is written, or drainMs passes. */
  async flush(drainMs: number): Promise<void> {
    const until = Date.now() + drainMs;
    while (this.queue.length && Date.now() < until) {
      this.kick();
      await Promise.race([this.running, new Promise((r) => setTimeout(r, Math.max(1, until - Date.now())).unref())]);
    }
  }

  private async drain(): Promise<void> {
    while (this.queue.length) {
      if (this.backoffMs) await new Promise((r) => setTimeout(r, this.backoffMs).unref());
      const batch = this.queue.slice(0, BATCH);
      try {
        await this.write(batch);
        this.queue.splice(0, batch.length);
        this.backoffMs = 0;
        if (this.queue.length < BATCH) return;
      } catch (err) {
        this.backoffMs = Math.min(30_000, Math.max(100, this.backoffMs * 2));
        this.log.warn({ err: (err as Error).message, queued: this.queue.length, retryMs: this.backoffMs }, "archive outcomes: database write failed; retrying");
      }
    }
  }
}

export interface StoredOutcome extends OutcomeEntry {
  id: number;
}

/** Every outcome of these messages, oldest first, by msg_id. */
export async function outcomesOf(db: Db, msgIds: string[]): Promise<Map<string, StoredOutcome[]>> {
  const out = new Map<string, StoredOutcome[]>();
  for (let i = 0; i < msgIds.length; i += 500) {
    const rows = (await db("archive_outcome").whereIn("msg_id", msgIds.slice(i, i + 500)).orderBy("id")) as {
      id: number | string; msg_id: string; at: number | string; outcome: DeliveryOutcome; condition: string | null; detail: string | null;
    }[];
    for (const r of rows) {
      const list = out.get(r.msg_id) ?? [];
      list.push({ id: Number(r.id), msgId: r.msg_id, at: Number(r.at), outcome: r.outcome, condition: r.condition ?? undefined, detail: r.detail ?? undefined });
      out.set(r.msg_id, list);
    }
  }
  return out;
}

/** "bounced: remote-server-not-found" */
export function describeOutcome(o: OutcomeEntry | undefined): string {
  if (!o) return "outcome unknown";
  return o.condition ? `${o.outcome}: ${o.condition}` : o.outcome;
}
