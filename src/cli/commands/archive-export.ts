/**
 * `demarc archive export`: a search streamed out as JSON lines, CSV or mbox,
 * to a file or standard output, with a progress bar on standard error. A
 * failed export is audited with how many records had left.
 */
import { createWriteStream, type WriteStream } from "node:fs";
import { once } from "node:events";
import { finished } from "node:stream/promises";
import type { Command } from "commander";
import { SingleBar } from "cli-progress";
import { DemarcError, UsageError } from "../../errors.js";
import { exportRecords, FORMATS, type ExportFormat } from "../../archive/export.js";
import type { Session } from "../../archive/session.js";
import type { ArchiveQuery } from "../../archive/store.js";
import { narrowOpenFile } from "../../archive/file-modes.js";
import { queryFrom, withFilters, type FilterOptions } from "../archive-filters.js";
import { action } from "../run.js";
import type { Run } from "./archive-common.js";

type ExportOptions = FilterOptions & { format: string; output?: string; actor?: string };

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

/** Streams the records out; returns how many were written. */
async function exportQuery(s: Session, q: ArchiveQuery, o: ExportOptions): Promise<number> {
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
  return n;
}

export function registerExport(archive: Command, run: Run): void {
  withFilters(archive.command("export").description("stream a search out as JSON lines, CSV or mbox"))
    .requiredOption("-f, --format <format>", `one of ${FORMATS.join(", ")}`)
    .option("-o, --output <file>", "write here instead of standard output")
    .action(
      action(async (o: ExportOptions) => {
        if (!(FORMATS as readonly string[]).includes(o.format)) throw new UsageError(`--format must be one of ${FORMATS.join(", ")}`);
        const q = queryFrom(o);
        const n = await run(o.actor, (s) => exportQuery(s, q, o));
        process.stderr.write(`exported ${n} record(s)${o.output ? ` to ${o.output}` : ""}\n`);
      }),
    );
}
