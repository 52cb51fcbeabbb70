import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { SingleBar } from "cli-progress";
import { loadConfig, resolvePath, type LoadedConfig } from "../../config/load.js";
import { UsageError, DemarcError } from "../../errors.js";
import { migrate, openDatabase, type Db } from "../../archive/db.js";
import { KnexStore } from "../../core/knex-store.js";
import { formatJid, parseJid, JidMalformedError } from "../../model/jid.js";
import { makeCredentials, passwordProblem } from "../../access/c2s/credentials.js";
import { importCsv } from "../../access/provision/import.js";
import { action } from "../run.js";

interface PasswordOpts {
  password?: string;
  passwordStdin?: boolean;
}

async function withStore<T>(cfg: LoadedConfig, fn: (store: KnexStore, db: Db) => Promise<T>): Promise<T> {
  const db = await openDatabase(cfg.archive.url, resolvePath(cfg, cfg.data_dir), cfg.archive.connect_timeout_s);
  try {
    await migrate(db);
    return await fn(new KnexStore(db), db);
  } finally {
    await db.destroy();
  }
}

/** A bare JID at a hosted domain; a plain localpart means the first hosted domain. */
function hostedJid(cfg: LoadedConfig, input: string): string {
  let jid: string;
  try {
    const j = parseJid(input.includes("@") ? input : `${input}@${cfg.domains[0]}`);
    if (!j.local || j.resource) throw new UsageError(`"${input}" is not a bare user JID (user@domain)`);
    jid = formatJid(j, true);
  } catch (err) {
    if (err instanceof JidMalformedError) throw new UsageError(`"${input}": ${err.message}`);
    throw err;
  }
  const domain = jid.slice(jid.indexOf("@") + 1);
  if (!cfg.domains.map((d) => d.toLowerCase()).includes(domain)) throw new UsageError(`${domain} is not a hosted domain (${cfg.domains.join(", ")})`);
  return jid;
}

/** A new password, given or generated (16 characters), that the account policy accepts. */
async function password(opts: PasswordOpts, minLength: number): Promise<{ value: string; generated: boolean }> {
  const pw = await readPassword(opts);
  const problem = pw.generated ? undefined : passwordProblem(pw.value, minLength);
  if (problem) throw new UsageError(problem);
  return pw;
}

async function readPassword(opts: PasswordOpts): Promise<{ value: string; generated: boolean }> {
  if (opts.password !== undefined && opts.passwordStdin) throw new UsageError("give --password or --password-stdin, not both");
  if (opts.passwordStdin) {
    const chunks: Buffer[] = [];
    for await (const c of process.stdin) chunks.push(c as Buffer);
    const value = Buffer.concat(chunks).toString("utf8").split(/\r?\n/)[0] ?? "";
    if (!value) throw new UsageError("no password on standard input");
    return { value, generated: false };
  }
  if (opts.password !== undefined) {
    if (!opts.password) throw new UsageError("the password is empty");
    return { value: opts.password, generated: false };
  }
  return { value: randomBytes(12).toString("base64url"), generated: true };
}

export function registerUsers(program: Command): void {
  const users = program.command("users").description("internal users of the embedded core: add, remove, list, passwd, import");
  const config = () => loadConfig({ path: program.opts<{ config?: string }>().config });

  users
    .command("add <jid>")
    .description("create an account (a random password is made and printed when none is given)")
    .option("--password <password>", "the password (visible to other local users; prefer --password-stdin)")
    .option("--password-stdin", "read the password from the first line of standard input")
    .option("--group <name>", "presence group (core.groups, core.watch_rules)")
    .action(
      action(async (jidArg: string, opts: PasswordOpts & { group?: string }) => {
        const cfg = config();
        const jid = hostedJid(cfg, jidArg);
        const pw = await password(opts, cfg.c2s.min_password_length);
        await withStore(cfg, async (store) => {
          if (await store.getUser(jid)) throw new DemarcError("E_EXISTS", { jid });
          await store.putUser({ jid, group: opts.group, credentials: makeCredentials(pw.value, cfg.c2s.scram_iterations) });
        });
        process.stdout.write(pw.generated ? `added ${jid} with password ${pw.value}\n` : `added ${jid}\n`);
      }),
    );

  users
    .command("remove <jid>")
    .description("delete an account with its contact list, block list and stored messages")
    .action(
      action(async (jidArg: string) => {
        const cfg = config();
        const jid = hostedJid(cfg, jidArg);
        const removed = await withStore(cfg, (store) => store.removeUser(jid));
        if (!removed) throw new DemarcError("E_NO_USER", { jid });
        process.stdout.write(`removed ${jid}\n`);
      }),
    );

  users
    .command("list")
    .description("list accounts, one per line, with their presence group and contact count")
    .option("--domain <domain>", "only this hosted domain")
    .action(
      action(async (opts: { domain?: string }) => {
        const cfg = config();
        await withStore(cfg, async (store, db) => {
          const list = await store.listUsers(opts.domain?.toLowerCase());
          const counts = new Map(
            ((await db("core_roster").where({ hidden: false }).groupBy("user_jid").select("user_jid").count({ n: "*" })) as { user_jid: string; n: number | string }[]).map((r) => [r.user_jid, Number(r.n)]),
          );
          for (const u of list) process.stdout.write(`${u.jid}\t${u.group ?? "-"}\t${counts.get(u.jid) ?? 0} contacts\n`);
          process.stderr.write(`${list.length} user${list.length === 1 ? "" : "s"}\n`);
        });
      }),
    );

  users
    .command("passwd <jid>")
    .description("set a new password (a random one is made and printed when none is given)")
    .option("--password <password>", "the new password")
    .option("--password-stdin", "read the new password from standard input")
    .action(
      action(async (jidArg: string, opts: PasswordOpts) => {
        const cfg = config();
        const jid = hostedJid(cfg, jidArg);
        const pw = await password(opts, cfg.c2s.min_password_length);
        await withStore(cfg, async (store) => {
          const u = await store.getUser(jid);
          if (!u) throw new DemarcError("E_NO_USER", { jid });
          await store.putUser({ ...u, credentials: makeCredentials(pw.value, cfg.c2s.scram_iterations) });
        });
        process.stdout.write(pw.generated ? `new password for ${jid}: ${pw.value}\n` : `password changed for ${jid}\n`);
      }),
    );

  users
    .command("import <file>")
    .description("bulk import users and contact lists from CSV (header: jid,password,group,contact,name,roster_group)")
    .option("--dry-run", "check the file and report, changing nothing")
    .option("--update-passwords", "replace the password of accounts that already exist (otherwise they are kept as they are)")
    .action(
      action(async (file: string, opts: { dryRun?: boolean; updatePasswords?: boolean }) => {
        const cfg = config();
        let text: string;
        try {
          text = readFileSync(file, "utf8");
        } catch (err) {
          throw new UsageError(`${file}: cannot read (${(err as NodeJS.ErrnoException).code ?? "error"})`);
        }
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
        process.stdout.write(
          `${opts.dryRun ? "would import" : "imported"}: ${report.usersCreated} users created, ${report.passwordsSet} passwords changed, ${report.usersKept} existing accounts kept, ${report.contactsAdded} contacts added, ${report.contactsKept} already listed, ${report.problems.length} rows refused\n`,
        );
        return report.problems.length ? 1 : 0;
      }),
    );
}
