/**
 * `demarc archive`: search, thread, export, verify, purge, hold, quarantine,
 * audit. Every search, export, verify, purge, hold and quarantine review is
 * written to the archive's audit table with the actor (--actor, else the OS user).
 */
import { createWriteStream, type WriteStream } from "node:fs";
import { once } from "node:events";
import { finished } from "node:stream/promises";
import type { Command } from "commander";
import { SingleBar } from "cli-progress";
import { DemarcError, UsageError } from "../../errors.js";
import { exportRecords, FORMATS, toJson, type ExportFormat } from "../../archive/export.js";
import { purge } from "../../archive/retention.js";
import { FILTER_FLAGS, openSession, queryFrom, searchLine, threadLine, type FilterOptions, type Session } from "../../archive/session.js";
import { verifyChain } from "../../archive/verify.js";
import { outcomesOf } from "../../archive/outcomes.js";
import { action } from "../run.js";
import { narrowOpenFile } from "../../archive/file-modes.js";
import { registerQuarantine } from "./archive-quarantine.js";

const out = (s: string) => process.stdout.write(`${s}\n`);

function limitOf(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 1_000_000) throw new UsageError("--limit must be a whole number from 1 to 1000000");
  return n;
}

/** Opens an export file before any record is read, so a bad path fails at once, audited, with nothing exported. */
async function openOutput(path: string, audit: (err: Error) => Promise<void>): Promise<WriteStream> {
  const dest = createWriteStream(path, { mode: 0o600 });
  try {
    const [fd] = (await once(dest, "open")) as [number];
    // createWriteStream's mode applies only to a new file: an overwritten one would keep its older, maybe wider, mode.
    narrowOpenFile(fd);
    return dest;
  } catch (err) {
    await audit(err as Error).catch(() => undefined);
    throw new DemarcError("E_EXPORT_OUTPUT", { path, reason: (err as NodeJS.ErrnoException).code ?? (err as Error).message });
  }
}

function withFilters(cmd: Command): Command {
  for (const [flag, help] of FILTER_FLAGS) cmd.option(flag, help);
  return cmd.option("--actor <name>", "who is asking, for the audit log (default: the OS user)");
}

export function registerArchive(program: Command): void {
  const archive = program.command("archive").description("the message archive: search, thread, export, verify, purge, hold, quarantine, audit");
  const session = (actor: string | undefined) => openSession(program.opts<{ config?: string }>().config, actor);
  const run = async <T>(actor: string | undefined, fn: (s: Session) => Promise<T>): Promise<T> => {
    const s = await session(actor);
    try {
      return await fn(s);
    } finally {
      await s.close();
    }
  };

  withFilters(archive.command("search").description("find archived records"))
    .option("--limit <n>", "most records to show", "100")
    .option("--json", "one JSON object per line")
    .action(
      action(async (o: FilterOptions & { limit: string; json?: boolean; actor?: string }) => {
        const q = queryFrom(o);
        const limit = limitOf(o.limit);
        await run(o.actor, async (s) => {
          const rows = await s.store.find(q, { limit });
          const fates = await outcomesOf(s.db, [...new Set(rows.map((r) => r.msgId))]);
          for (const r of rows) {
            const history = fates.get(r.msgId) ?? [];
            out(o.json ? JSON.stringify({ ...toJson(r), outcomes: history.map(({ at, outcome, condition, detail }) => ({ at, outcome, condition, detail })) }) : searchLine(r, history));
          }
          await s.audit("search", q, rows.length);
          if (!o.json) process.stderr.write(`${rows.length} record(s)${rows.length === limit ? " (limit reached; narrow the search or raise --limit)" : ""}\n`);
        });
      }),
    );

  archive
    .command("thread")
    .description("a conversation, in order")
    .argument("<thread-id>")
    .option("--actor <name>", "who is asking, for the audit log")
    .action(
      action(async (thread: string, o: { actor?: string }) => {
        await run(o.actor, async (s) => {
          let n = 0;
          for (let after = 0; ; ) {
            const page = await s.store.find({ thread }, { afterSeq: after, limit: 500 });
            if (page.length === 0) break;
            const fates = await outcomesOf(s.db, [...new Set(page.map((r) => r.msgId))]);
            for (const r of page) out(threadLine(r, fates.get(r.msgId)?.at(-1)));
            n += page.length;
            after = page[page.length - 1]!.seq;
          }
          await s.audit("thread", { thread }, n);
          if (n === 0) throw new UsageError(`no archived records in thread "${thread}"`);
        });
      }),
    );

  withFilters(archive.command("export").description("stream a search out as JSON lines, CSV or mbox"))
    .requiredOption("-f, --format <format>", `one of ${FORMATS.join(", ")}`)
    .option("-o, --output <file>", "write here instead of standard output")
    .action(
      action(async (o: FilterOptions & { format: string; output?: string; actor?: string }) => {
        if (!(FORMATS as readonly string[]).includes(o.format)) throw new UsageError(`--format must be one of ${FORMATS.join(", ")}`);
        const q = queryFrom(o);
        await run(o.actor, async (s) => {
          const total = await s.store.count(q);
          const what = { format: o.format, output: o.output ?? "-", query: q };
          const dest = o.output ? await openOutput(o.output, (err) => s.audit("export-failed", { ...what, error: err.message }, 0)) : process.stdout;
          const bar = new SingleBar({ stream: process.stderr, format: "exporting [{bar}] {value}/{total} records {percentage}%" });
          let sent = 0;
          bar.start(total, 0);
          let n: number;
          try {
            n = await exportRecords(s.store, q, o.format as ExportFormat, dest, (done) => bar.update((sent = done)));
            if (o.output) {
              dest.end();
              await finished(dest);
            }
          } catch (err) {
            bar.stop();
            // Records may have left before the failure: the audit trail says how many, and why it stopped.
            await s.audit("export-failed", { ...what, error: (err as Error).message }, sent).catch(() => undefined);
            const code = (err as NodeJS.ErrnoException).code;
            // The output file is the operator's to fix (a missing folder, a full disk): say so in one line.
            if (o.output && code && /^E[A-Z]+$/.test(code)) throw new DemarcError("E_EXPORT_INCOMPLETE", { path: o.output, reason: code, count: sent });
            throw err;
          }
          bar.stop();
          await s.audit("export", what, n);
          process.stderr.write(`exported ${n} record(s)${o.output ? ` to ${o.output}` : ""}\n`);
        });
      }),
    );

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

  const hold = archive.command("hold").description("legal holds: records they cover are never purged");
  withFilters(hold.command("add").description("place a hold: --participant alone holds a user, --domain alone a domain, other filters a search"))
    .option("--reason <text>", "case number or why")
    .action(
      action(async (o: FilterOptions & { reason?: string; actor?: string }) => {
        const q = queryFrom(o);
        const keys = Object.keys(q);
        if (keys.length === 0) throw new UsageError("say what to hold: --participant, --domain, or search filters");
        const [scope, value] =
          keys.length === 1 && q.participant
            ? (["user", q.participant.toLowerCase()] as const)
            : keys.length === 1 && q.domain
              ? (["domain", q.domain.toLowerCase()] as const)
              : (["search", JSON.stringify(q)] as const);
        await run(o.actor, async (s) => {
          const id = await s.store.addHold({ createdAt: Date.now(), createdBy: s.actor, scope, value, reason: o.reason ?? null });
          await s.audit("hold", { id, scope, value, reason: o.reason ?? null }, null);
          out(`hold ${id} placed (${scope}: ${value})`);
        });
      }),
    );
  hold
    .command("list")
    .description("holds in force (--all: released ones too)")
    .option("--all", "include released holds")
    .option("--actor <name>", "who is asking")
    .action(
      action(async (o: { all?: boolean; actor?: string }) =>
        run(o.actor, async (s) => {
          for (const h of await s.store.holds(!o.all)) {
            const released = h.releasedAt ? ` released ${new Date(h.releasedAt).toISOString()} by ${h.releasedBy}` : "";
            out(`${h.id} ${h.scope} ${h.value} by ${h.createdBy} ${new Date(h.createdAt).toISOString()}${h.reason ? ` "${h.reason}"` : ""}${released}`);
          }
        }),
      ),
    );
  hold
    .command("release")
    .description("release a hold; its records become subject to retention again")
    .argument("<id>")
    .option("--actor <name>", "who is asking")
    .action(
      action(async (id: string, o: { actor?: string }) =>
        run(o.actor, async (s) => {
          const n = limitOf(id);
          if (!(await s.store.releaseHold(n, s.actor, Date.now()))) throw new UsageError(`no hold ${id} in force`);
          await s.audit("release-hold", { id: n }, null);
          out(`hold ${n} released`);
        }),
      ),
    );

  registerQuarantine(archive, program, run);

  archive
    .command("audit")
    .description("who searched, exported, verified, purged, held and reviewed what, newest first")
    .option("--limit <n>", "entries", "50")
    .action(
      action(async (o: { limit: string }) =>
        run(undefined, async (s) => {
          for (const e of await s.store.auditLog(limitOf(o.limit))) {
            out(`${new Date(e.at).toISOString()} ${e.actor} ${e.action}${e.query ? ` ${e.query}` : ""}${e.result !== null ? ` -> ${e.result}` : ""}`);
          }
        }),
      ),
    );
}
