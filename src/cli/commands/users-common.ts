/**
 * What the `demarc users` subcommands share: the core's store opened from
 * the config, an address checked against the hosted domains, and a password
 * given, piped or generated.
 */
import { randomBytes } from "node:crypto";
import type { LoadedConfig } from "../../config/load.js";
import { resolvePath } from "../../config/load.js";
import { UsageError } from "../../errors.js";
import { migrate, openDatabase, type Db } from "../../archive/db.js";
import { KnexStore } from "../../core/knex-store.js";
import { formatJid, parseJid, JidMalformedError } from "../../model/jid.js";
import { passwordProblem } from "../../access/c2s/credentials.js";

export interface PasswordOpts {
  password?: string;
  passwordStdin?: boolean;
}

export async function withStore<T>(cfg: LoadedConfig, fn: (store: KnexStore, db: Db) => Promise<T>): Promise<T> {
  const db = await openDatabase(cfg.archive.url, resolvePath(cfg, cfg.data_dir), cfg.archive.connect_timeout_s);
  try {
    await migrate(db);
    return await fn(new KnexStore(db), db);
  } finally {
    await db.destroy();
  }
}

/** A bare JID at a hosted domain; a plain localpart means the first hosted domain. */
export function hostedJid(cfg: LoadedConfig, input: string): string {
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
export async function password(opts: PasswordOpts, minLength: number): Promise<{ value: string; generated: boolean }> {
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
