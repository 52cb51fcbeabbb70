/**
 * The archive as a gateway module: opens the journal (replaying what the
 * database does not have yet), starts the writer, becomes the router's
 * Archiver, holds the archive service and the quarantine desk for the
 * console and the core, reports readiness and Prometheus
 * metrics, adds the quarantine review API to the admin server, runs the
 * retention purge on a timer, and on stop drains the journal into the
 * database for as long as the drain allows.
 */
import { resolve } from "node:path";
import { Counter, Gauge, type Registry } from "prom-client";
import { resolvePath } from "../config/load.js";
import type { GatewayContext, GatewayModule } from "../module.js";
import { quarantineRoutes } from "../admin/quarantine.js";
import { apiPrincipal } from "../admin/principal.js";
import { ArchiveService } from "./archiver.js";
import { KnexArchiveStore } from "./knex-store.js";
import { openSink } from "./open-sink.js";
import { OutcomeLog } from "./outcomes.js";
import { QuarantineDesk } from "./quarantine.js";
import { schedulePurge } from "./retention.js";
import { startCheckpointer, type Checkpointer } from "./sqlite-checkpoint.js";

const MB = 1 << 20;

function registerMetrics(registry: Registry, svc: ArchiveService, budgetBytes: number, store: KnexArchiveStore): void {
  const registers = [registry];
  const gauge = (name: string, help: string, value: () => number) =>
    new Gauge({ name, help, registers, collect() { this.set(value()); } });
  gauge("demarc_archive_journal_pending_bytes", "Journal bytes not yet written to the archive database", () => svc.journal.pendingBytes);
  gauge("demarc_archive_journal_pending_records", "Journal records not yet written to the archive database", () => svc.journal.pendingRecords);
  gauge("demarc_archive_journal_disk_bytes", "Disk the archive journal uses", () => svc.journal.diskBytes);
  gauge("demarc_archive_journal_budget_bytes", "Disk the archive journal may use (archive.journal.budget_mb)", () => budgetBytes);
  gauge("demarc_archive_writer_lag_seconds", "Age of the oldest record waiting for the archive database", () => svc.writer.lagSeconds);
  gauge("demarc_archive_db_up", "1 when the archive writer reaches its database, 0 while it is down", () => (svc.writer.dbUp ? 1 : 0));
  // While the database is away the last count stays: /metrics must keep answering, and demarc_archive_db_up says why.
  let pending = 0;
  new Gauge({
    name: "demarc_archive_quarantine_pending", help: "Quarantined messages waiting for a compliance officer's review", registers,
    async collect() {
      if (svc.writer.dbUp) pending = await store.countPendingQuarantine().catch(() => pending);
      this.set(pending);
    },
  });
  const tally = (name: string, help: string, source: Map<string, number>) =>
    new Counter({
      name, help, registers, labelNames: ["reason"],
      collect() {
        this.reset();
        for (const [reason, n] of source) this.inc({ reason }, n);
      },
    });
  tally("demarc_archive_refused_total", "Messages refused because the journal could not record them (fail closed)", svc.failures.refused);
  tally("demarc_archive_unarchived_total", "Messages delivered without an archive record (on_journal_failure: deliver)", svc.failures.deliveredUnarchived);
  new Counter({
    name: "demarc_archive_records_written_total", help: "Records the writer stored in the archive database", registers,
    collect() {
      this.reset();
      this.inc(svc.writer.written);
    },
  });
}

/** SQLite only: the WAL checkpoints move to a worker thread (see sqlite-checkpoint.ts). */
async function sqliteCheckpointer(ctx: GatewayContext, log: GatewayContext["log"]): Promise<Checkpointer | undefined> {
  const client = ctx.db.client as { config: { client: string; connection?: { filename?: string } }; acquireConnection(): Promise<unknown>; releaseConnection(c: unknown): Promise<void> };
  const file = client.config.connection?.filename;
  if (client.config.client !== "better-sqlite3" || !file || file === ":memory:") return undefined;
  const conn = (await client.acquireConnection()) as Parameters<typeof startCheckpointer>[0];
  try {
    return startCheckpointer(conn, file, log);
  } finally {
    await client.releaseConnection(conn);
  }
}

export interface ArchiveModule extends GatewayModule {
  /** The journal and its writer, once started. */
  readonly service: ArchiveService | undefined;
  /** Quarantine review, once started. */
  readonly desk: QuarantineDesk | undefined;
}

export function archiveModule(): ArchiveModule {
  let svc: ArchiveService | undefined;
  let quarantine: QuarantineDesk | undefined;
  let outcomes: OutcomeLog | undefined;
  let checkpointer: Checkpointer | undefined;
  let stopPurge: (() => void) | undefined;
  return {
    name: "archive",
    get service() {
      return svc;
    },
    get desk() {
      return quarantine;
    },
    async start(ctx: GatewayContext) {
      const cfg = ctx.config.archive;
      const log = ctx.log.child({ module: "archive" });
      const dataDir = resolvePath(ctx.config, ctx.config.data_dir);
      const budgetBytes = Math.floor(cfg.journal.budget_mb * MB);
      const store = new KnexArchiveStore(ctx.db);
      // Over a SQLite file the writer's inserts and the outcomes run on a thread of their own (append-worker.ts).
      const sink = openSink(ctx.db, store, log);
      const archive = await ArchiveService.open(store, {
        journal: {
          dir: resolve(dataDir, cfg.journal.dir),
          budgetBytes,
          segmentBytes: Math.floor(cfg.journal.segment_mb * MB),
          commitDelayMs: cfg.journal.commit_delay_ms,
        },
        batch: cfg.writer.batch,
        retryMaxMs: cfg.writer.retry_max_ms,
        onJournalFailure: cfg.on_journal_failure,
        // The live configuration's, so a reload applies to the next envelope (keeps.ts).
        kinds: () => ctx.config.archive.kinds,
        pauseBytes: Math.floor((budgetBytes * cfg.journal.pause_at_percent) / 100),
        sink,
        log,
      });
      svc = archive;
      checkpointer = await sqliteCheckpointer(ctx, log);
      ctx.router.useArchiver(archive);
      outcomes = new OutcomeLog((batch) => sink.writeOutcomes(batch), log);
      const outcomeLog = outcomes;
      // Outcomes only for envelopes the archive kept, by the same rule and the same kinds.
      ctx.router.useOutcomes({
        record: (e, about) => {
          if (!about || archive.keeps(about.kind, about.decision)) outcomeLog.record(e);
        },
      });
      // A database outage is not a readiness problem: the journal carries on. A journal that cannot write is.
      ctx.readiness.set("archive", () => {
        if (archive.journalError) return archive.journalError;
        if (archive.journal.diskBytes > 0.9 * budgetBytes) return `archive journal at ${Math.round((100 * archive.journal.diskBytes) / budgetBytes)}% of its disk budget`;
        return undefined;
      });
      registerMetrics(ctx.metrics, archive, budgetBytes, store);
      // Releases go through the router: only the gateway holds the listeners that deliver them.
      const desk = new QuarantineDesk(store, (original, decision) => ctx.router.deliverDecided(original, decision), undefined, outcomes);
      quarantine = desk;
      // Inside the token-guarded /api scope; the token then acts as its named service account.
      const principal = (req: Parameters<typeof apiPrincipal>[1]) => apiPrincipal(() => ctx.config, req);
      ctx.adminApiRoutes.push((api) => void api.register(quarantineRoutes, { prefix: "/quarantine", desk, principal, fourEyes: () => ctx.config.admin.console.four_eyes, log: log.child({ part: "quarantine" }) }));
      stopPurge = schedulePurge(store, cfg.retention.purge_interval_h, () => ctx.config.archive.retention, log);
      log.info({ journal: cfg.journal.dir, pending: archive.journal.pendingRecords, failure: cfg.on_journal_failure }, "archive journal open");
    },
    async stop(drainMs: number) {
      stopPurge?.();
      await outcomes?.flush(drainMs);
      await svc?.close(drainMs);
      svc = undefined;
      await checkpointer?.stop();
      checkpointer = undefined;
    },
  };
}
