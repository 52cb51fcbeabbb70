/**
 * `demarc users`: accounts of the embedded core (mode single-box): add,
 * remove, list, passwd, import.
 */
import type { Command } from "commander";
import { loadConfig, type LoadedConfig } from "../../config/load.js";
import { DemarcError } from "../../errors.js";
import type { Db } from "../../archive/db.js";
import { makeCredentials } from "../../access/c2s/credentials.js";
import { action } from "../run.js";
import { hostedJid, password, withStore, type PasswordOpts } from "./users-common.js";
import { registerImport } from "./users-import.js";

export function registerUsers(program: Command): void {
  const users = program.command("users").description("internal users of the embedded core: add, remove, list, passwd, import");
  const config = () => loadConfig({ path: program.opts<{ config?: string }>().config });
  registerAdd(users, config);
  registerRemove(users, config);
  registerList(users, config);
  registerPasswd(users, config);
  registerImport(users, config);
}

/** Visible contacts per account. */
async function contactCounts(db: Db): Promise<Map<string, number>> {
  const rows = (await db("core_roster").where({ hidden: false }).groupBy("user_jid").select("user_jid").count({ n: "*" })) as { user_jid: string; n: number | string }[];
  return new Map(rows.map((r) => [r.user_jid, Number(r.n)]));
}

function registerAdd(users: Command, config: () => LoadedConfig): void {
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
}

function registerRemove(users: Command, config: () => LoadedConfig): void {
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
}

function registerList(users: Command, config: () => LoadedConfig): void {
  users
    .command("list")
    .description("list accounts, one per line, with their presence group and contact count")
    .option("--domain <domain>", "only this hosted domain")
    .action(
      action(async (opts: { domain?: string }) => {
        const cfg = config();
        await withStore(cfg, async (store, db) => {
          const list = await store.listUsers(opts.domain?.toLowerCase());
          const counts = await contactCounts(db);
          for (const u of list) process.stdout.write(`${u.jid}\t${u.group ?? "-"}\t${counts.get(u.jid) ?? 0} contacts\n`);
          process.stderr.write(`${list.length} user${list.length === 1 ? "" : "s"}\n`);
        });
      }),
    );
}

function registerPasswd(users: Command, config: () => LoadedConfig): void {
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
}
