/**
 * `demarc archive`: search, thread, export, verify, purge, hold, quarantine,
 * audit. Every search, export, verify, purge, hold and quarantine review is
 * written to the archive's audit table with the actor (--actor, else the OS user).
 */
import type { Command } from "commander";
import { UsageError } from "../../errors.js";
import { toJson } from "../../archive/export.js";
import { purge } from "../../archive/retention.js";
import { searchLine, threadLine, type Session } from "../../archive/session.js";
import type { ArchiveQuery, AuditEntry } from "../../archive/store.js";
import type { StoredRecord } from "../../archive/record.js";
import { verifyChain } from "../../archive/verify.js";
import { outcomesOf, type StoredOutcome } from "../../archive/outcomes.js";
import { queryFrom, withFilters, type FilterOptions } from "../archive-filters.js";
import { action } from "../run.js";
import { limitOf, out, sessionRunner, type Run } from "./archive-common.js";
import { registerExport } from "./archive-export.js";
import { registerHolds } from "./archive-holds.js";
import { registerQuarantine } from "./archive-quarantine.js";

export function registerArchive(program: Command): void {
  const archive = program.command("archive").description("the message archive: search, thread, export, verify, purge, hold, quarantine, audit");
  const run = sessionRunner(program);
  registerSearch(archive, run);
  registerThread(archive, run);
  registerExport(archive, run);
  registerVerify(archive, run);
  registerPurge(archive, run);
  registerHolds(archive, run);
  registerQuarantine(archive, program, run);
  registerAudit(archive, run);
}

/** Records and the delivery outcomes of each, by message id. */
async function withOutcomes(s: Session, rows: StoredRecord[]): Promise<Map<string, StoredOutcome[]>> {
  return outcomesOf(s.db, [...new Set(rows.map((r) => r.msgId))]);
}

function searchJson(r: StoredRecord, history: StoredOutcome[]): string {
  return JSON.stringify({ ...toJson(r), outcomes: history.map(({ at, outcome, condition, detail }) => ({ at, outcome, condition, detail })) });
}

function registerSearch(archive: Command, run: Run): void {
  withFilters(archive.command("search").description("find archived records"))
    .option("--limit <n>", "most records to show", "100")
    .option("--json", "one JSON object per line")
    .action(
      action(async (o: FilterOptions & { limit: string; json?: boolean; actor?: string }) => {
        const q = queryFrom(o);
        const limit = limitOf(o.limit);
        await run(o.actor, async (s) => {
          const rows = await s.store.find(q, { limit });
          const fates = await withOutcomes(s, rows);
          for (const r of rows) {
            const history = fates.get(r.msgId) ?? [];
            out(o.json ? searchJson(r, history) : searchLine(r, history));
          }
          await s.audit("search", q, rows.length);
          if (!o.json) process.stderr.write(`${rows.length} record(s)${rows.length === limit ? " (limit reached; narrow the search or raise --limit)" : ""}\n`);
        });
      }),
    );
}

/** A thread's records in pages of 500, each page with the records' outcomes. */
async function* threadPages(s: Session, thread: string): AsyncGenerator<{ page: StoredRecord[]; fates: Map<string, StoredOutcome[]> }> {
  const q: ArchiveQuery = { thread };
  for (let after = 0; ; ) {
    const page = await s.store.find(q, { afterSeq: after, limit: 500 });
    if (page.length === 0) return;
    yield { page, fates: await withOutcomes(s, page) };
    after = page[page.length - 1]!.seq;
  }
}

function registerThread(archive: Command, run: Run): void {
  archive
    .command("thread")
    .description("a conversation, in order")
    .argument("<thread-id>")
    .option("--actor <name>", "who is asking, for the audit log")
    .action(
      action(async (thread: string, o: { actor?: string }) => {
        await run(o.actor, async (s) => {
          let n = 0;
          for await (const { page, fates } of threadPages(s, thread)) {
            for (const r of page) out(threadLine(r, fates.get(r.msgId)?.at(-1)));
            n += page.length;
          }
          await s.audit("thread", { thread }, n);
          if (n === 0) throw new UsageError(`no archived records in thread "${thread}"`);
        });
      }),
    );
}

function registerVerify(archive: Command, run: Run): void {
  archive
    .command("verify")
    .description("walk the hash chain; exit 1 at the first broken link")
    .option("--actor <name>", "who is asking, for the audit log")
    .action(
      action(async (o: { actor?: string }) =>
        run(o.actor, async (s) => {
          const r = await verifyChain(s.store);
          await s.audit("verify", null, r.broken ? r.broken.seq : r.checked);
          if (r.broken) {
            out(`BROKEN at record ${r.broken.seq}: ${r.broken.reason} (${r.checked} record(s) verified before it)`);
            return 1;
          }
          out(`ok: ${r.checked} record(s) verified (${r.purged} purged by retention, taken by their recorded hash)`);
          if (r.head) out(`head: seq ${r.head.seq} sha256 ${r.head.hash} (keep this outside the database to detect truncation)`);
          return 0;
        }),
      ),
    );
}

function registerPurge(archive: Command, run: Run): void {
  archive
    .command("purge")
    .description("apply the retention rules (archive.retention) now; held records are kept")
    .option("--dry-run", "count what would go, change nothing")
    .option("--actor <name>", "who is asking, for the audit log")
    .action(
      action(async (o: { dryRun?: boolean; actor?: string }) =>
        run(o.actor, async (s) => {
          const r = await purge(s.store, s.config.archive.retention, { now: Date.now(), actor: s.actor, dryRun: o.dryRun ?? false });
          await s.audit(o.dryRun ? "purge-dry-run" : "purge", { purgeId: r.purgeId ?? null, byRule: r.byRule }, r.purged);
          out(`${o.dryRun ? "would purge" : "purged"} ${r.purged} record(s); ${r.held} kept by legal holds${r.purgeId ? ` (purge ${r.purgeId})` : ""}`);
        }),
      ),
    );
}

function auditLine(e: AuditEntry): string {
  return `${new Date(e.at).toISOString()} ${e.actor} ${e.action}${e.query ? ` ${e.query}` : ""}${e.result !== null ? ` -> ${e.result}` : ""}`;
}

function registerAudit(archive: Command, run: Run): void {
  archive
    .command("audit")
    .description("who searched, exported, verified, purged, held and reviewed what, newest first")
    .option("--limit <n>", "entries", "50")
    .action(action(async (o: { limit: string }) => run(undefined, async (s) => (await s.store.auditLog(limitOf(o.limit))).forEach((e) => out(auditLine(e))))));
}
