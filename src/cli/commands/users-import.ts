/**
 * `demarc users import FILE`: accounts and contact lists from CSV, with a
 * progress bar; refused rows are listed by line and make the exit 1.
 */
import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { SingleBar } from "cli-progress";
import type { LoadedConfig } from "../../config/load.js";
import { UsageError } from "../../errors.js";
import { importCsv, type ImportReport } from "../../access/provision/import.js";
import { action } from "../run.js";
import { withStore } from "./users-common.js";

function readCsv(file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch (err) {
    throw new UsageError(`${file}: cannot read (${(err as NodeJS.ErrnoException).code ?? "error"})`);
  }
}

function summary(r: ImportReport, dryRun: boolean | undefined): string {
  return (
    `${dryRun ? "would import" : "imported"}: ${r.usersCreated} users created, ${r.passwordsSet} passwords changed, ${r.usersKept} existing accounts kept, ` +
    `${r.contactsAdded} contacts added, ${r.contactsKept} already listed, ${r.problems.length} rows refused`
  );
}

export function registerImport(users: Command, config: () => LoadedConfig): void {
  users
    .command("import <file>")
    .description("bulk import users and contact lists from CSV (header: jid,password,group,contact,name,roster_group)")
    .option("--dry-run", "check the file and report, changing nothing")
    .option("--update-passwords", "replace the password of accounts that already exist (otherwise they are kept as they are)")
    .action(
      action(async (file: string, opts: { dryRun?: boolean; updatePasswords?: boolean }) => {
        const cfg = config();
        const text = readCsv(file);
        const bar = new SingleBar({ format: "importing [{bar}] {percentage}% | {value}/{total} rows", stream: process.stderr, noTTYOutput: false, hideCursor: true });
        let started = false;
        const report = await withStore(cfg, (store) =>
          importCsv(text, {
            store,
            domains: cfg.domains,
            maxContacts: cfg.core.max_contacts,
            iterations: cfg.c2s.scram_iterations,
            minPasswordLength: cfg.c2s.min_password_length,
            updatePasswords: opts.updatePasswords,
            dryRun: opts.dryRun,
            onProgress: (done, total) => {
              if (!started) (bar.start(total, 0), (started = true));
              bar.update(done);
            },
          }).catch((err: Error) => {
            throw new UsageError(`${file}: ${err.message}`);
          }),
        ).finally(() => started && bar.stop());
        for (const p of report.problems) process.stderr.write(`${file}: ${p}\n`);
        process.stdout.write(`${summary(report, opts.dryRun)}\n`);
        return report.problems.length ? 1 : 0;
      }),
    );
}
