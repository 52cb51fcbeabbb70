/**
 * `demarc archive quarantine`: list reads the archive database like the other
 * archive commands; release and reject go through the running gateway's admin
 * API, because a release is a delivery and only the gateway has the
 * listeners. The gateway audits those under admin.token's service account
 * (admin.token_account): an actor cannot be declared in a request.
 */
import type { Command } from "commander";
import { loadConfig } from "../../config/load.js";
import { UsageError } from "../../errors.js";
import { pendingItem, QuarantineDesk } from "../../archive/quarantine.js";
import { searchLine } from "../../archive/session.js";
import { adminCall, apiError } from "../admin-api.js";
import { action } from "../run.js";
import type { Run } from "./archive-common.js";

const out = (s: string) => process.stdout.write(`${s}\n`);

function recordNumber(v: string): number {
  const n = Number(v.replace(/^#/, ""));
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`"${v}" is not a record number (the #N that quarantine list shows)`);
  return n;
}

export function registerQuarantine(archive: Command, program: Command, run: Run): void {
  const quarantine = archive.command("quarantine").description("messages a policy held for review: list, release (deliver) or reject");
  const config = () => loadConfig({ path: program.opts<{ config?: string }>().config });

  quarantine
    .command("list")
    .description("held messages no one has reviewed yet, oldest first")
    .option("--json", "one JSON object per line")
    .option("--limit <n>", "most records to show", "100")
    .option("--actor <name>", "who is asking, for the audit log (default: the OS user)")
    .action(
      action(async (o: { json?: boolean; limit: string; actor?: string }) => {
        const limit = Number(o.limit);
        if (!Number.isInteger(limit) || limit < 1 || limit > 100_000) throw new UsageError("--limit must be a whole number from 1 to 100000");
        await run(o.actor, async (s) => {
          const rows = await new QuarantineDesk(s.store).pending(s.actor, { limit });
          for (const r of rows) {
            const item = pendingItem(r);
            out(o.json ? JSON.stringify(item) : `${searchLine(r)}${item.reason ? `  -- ${item.reason}` : ""}`);
          }
          if (!o.json) process.stderr.write(`${rows.length} record(s) pending review${rows.length === limit ? " (limit reached; raise --limit)" : ""}\n`);
        });
      }),
    );

  for (const verb of ["release", "reject"] as const) {
    quarantine
      .command(verb)
      .description(verb === "release" ? "deliver a held message to its recipient (the running gateway sends it)" : "close a held message without delivering it")
      .argument("<id>", "record number (#N in quarantine list)")
      .option("--comment <text>", "why, for the record")
      .action(
        action(async (id: string, o: { comment?: string }) => {
          const seq = recordNumber(id);
          const body = o.comment !== undefined ? { comment: o.comment } : {};
          const a = await adminCall(config(), "POST", `/api/quarantine/${seq}/${verb}`, body);
          if (a.status !== 200) throw apiError(a);
          out(verb === "release" ? `released #${seq}: delivered to ${String(a.body.to)}` : `rejected #${seq}: it will not be delivered`);
        }),
      );
  }
}
