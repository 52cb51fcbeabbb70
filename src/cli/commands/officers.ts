/**
 * `demarc officers`: the review console's accounts. Storage returns data
 * (src/officers/store.ts); this file reads options and prints. Each change is
 * written to the archive's audit trail under the OS user who ran it.
 */
import { randomBytes } from "node:crypto";
import type { Command } from "commander";
import { DemarcError, UsageError } from "../../errors.js";
import { openSession, type Session } from "../../archive/session.js";
import { hashPassword, passwordProblem } from "../../officers/password.js";
import { newTotpSecret, totpFor } from "../../officers/login.js";
import { isRole, ROLES, type Role } from "../../officers/roles.js";
import { nameProblem, normalName, OfficerStore, type Officer } from "../../officers/store.js";
import { action } from "../run.js";

const out = (s: string) => process.stdout.write(`${s}\n`);

async function readPassword(fromStdin: boolean | undefined): Promise<{ value: string; generated: boolean }> {
  if (!fromStdin) return { value: randomBytes(18).toString("base64url"), generated: true };
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  const value = Buffer.concat(chunks).toString("utf8").split(/\r?\n/)[0] ?? "";
  const problem = passwordProblem(value);
  if (problem) throw new UsageError(problem);
  return { value, generated: false };
}

function roleOf(v: string): Role {
  if (!isRole(v)) throw new UsageError(`role "${v}" is not one of ${ROLES.join(", ")}`);
  return v;
}

function accountName(v: string): string {
  const name = normalName(v);
  const problem = nameProblem(name);
  if (problem) throw new UsageError(problem);
  return name;
}

const notFound = (name: string) => new DemarcError("E_NO_OFFICER", { name });

function describe(o: Officer): Record<string, unknown> {
  return {
    name: o.name,
    role: o.role,
    kind: o.kind,
    totp: o.totpSecret !== null,
    failures: o.failures,
    lockedUntil: o.lockedUntil && o.lockedUntil > Date.now() ? new Date(o.lockedUntil).toISOString() : null,
    lastLogin: o.lastLoginAt ? new Date(o.lastLoginAt).toISOString() : null,
    created: new Date(o.createdAt).toISOString(),
  };
}

function printPassword(p: { value: string; generated: boolean }, name: string): void {
  if (p.generated) out(`password for ${name}: ${p.value}  (shown once; hand it over privately)`);
}

function printTotp(name: string, secret: string): void {
  out(`TOTP for ${name}: add this to an authenticator app (shown once):`);
  out(totpFor(name, secret).toString());
}

type Run = <T>(fn: (store: OfficerStore, s: Session) => Promise<T>) => Promise<T>;

function registerAdd(officers: Command, run: Run): void {
  officers
    .command("add")
    .description("create an account; without --password-stdin a random password is made and shown once")
    .argument("<name>")
    .requiredOption("--role <role>", ROLES.join(", "))
    .option("--password-stdin", "read the password from the first line of standard input")
    .option("--totp", "require a TOTP code (RFC 6238) at login; prints the secret to enrol")
    .action(
      action(async (n: string, o: { role: string; passwordStdin?: boolean; totp?: boolean }) => {
        const name = accountName(n);
        const role = roleOf(o.role);
        const pw = await readPassword(o.passwordStdin);
        const secret = o.totp ? newTotpSecret() : null;
        const hash = await hashPassword(pw.value);
        await run(async (store, s) => {
          if (!(await store.add({ name, role, kind: "person", passwordHash: hash, totpSecret: secret }))) throw new UsageError(`account "${name}" exists already`);
          await s.audit("officer-add", { name, role, totp: secret !== null }, null);
        });
        out(`added ${name} (${role})`);
        printPassword(pw, name);
        if (secret) printTotp(name, secret);
      }),
    );
}

function registerRemove(officers: Command, run: Run): void {
  officers
    .command("remove")
    .description("delete an account; its open console sessions end at their next request")
    .argument("<name>")
    .action(
      action(async (n: string) => {
        const name = accountName(n);
        await run(async (store, s) => {
          if (!(await store.remove(name))) throw notFound(name);
          await s.audit("officer-remove", { name }, null);
        });
        out(`removed ${name}`);
      }),
    );
}

function registerList(officers: Command, run: Run): void {
  officers
    .command("list")
    .description("accounts, their roles, second factor and lockout state")
    .option("--json", "one JSON object per line")
    .action(
      action(async (o: { json?: boolean }) => {
        const { rows, service } = await run(async (store, s) => ({ rows: await store.list(), service: s.config.admin.token_account }));
        for (const r of rows.map(describe)) {
          out(o.json ? JSON.stringify(r) : `${r.name} ${r.role}${r.totp ? " totp" : ""}${r.lockedUntil ? ` LOCKED until ${r.lockedUntil}` : ""}${r.lastLogin ? ` last login ${r.lastLogin}` : ""}`);
        }
        const token = { name: service.name, role: service.role, kind: "service", source: "admin.token" };
        out(o.json ? JSON.stringify(token) : `${service.name} ${service.role} (service account of admin.token)`);
      }),
    );
}

function registerPasswd(officers: Command, run: Run): void {
  officers
    .command("passwd")
    .description("set a new password (also clears a lockout); --totp / --no-totp turn the second factor on or off")
    .argument("<name>")
    .option("--password-stdin", "read the password from the first line of standard input")
    .option("--totp", "make a new TOTP secret and require a code at login")
    .option("--no-totp", "stop requiring a TOTP code")
    .action(
      action(async (n: string, o: { passwordStdin?: boolean; totp?: boolean }) => {
        const name = accountName(n);
        const pw = await readPassword(o.passwordStdin);
        const hash = await hashPassword(pw.value);
        const secret = o.totp === true ? newTotpSecret() : null;
        await run(async (store, s) => {
          if (!(await store.setPassword(name, hash))) throw notFound(name);
          if (o.totp !== undefined) await store.setTotp(name, secret);
          await s.audit("officer-passwd", { name, ...(o.totp !== undefined ? { totp: o.totp } : {}) }, null);
        });
        out(`new password set for ${name}`);
        printPassword(pw, name);
        if (secret) printTotp(name, secret);
      }),
    );
}

function registerRole(officers: Command, run: Run): void {
  officers
    .command("role")
    .description("change an account's role")
    .argument("<name>")
    .argument("<role>", ROLES.join(", "))
    .action(
      action(async (n: string, r: string) => {
        const name = accountName(n);
        const role = roleOf(r);
        await run(async (store, s) => {
          if (!(await store.setRole(name, role))) throw notFound(name);
          await s.audit("officer-role", { name, role }, null);
        });
        out(`${name} is now ${role}`);
      }),
    );
}

export function registerOfficers(program: Command): void {
  const officers = program.command("officers").description(`review console accounts and their roles (${ROLES.join(" < ")})`);
  const run: Run = async (fn) => {
    const s = await openSession(program.opts<{ config?: string }>().config, undefined);
    try {
      return await fn(new OfficerStore(s.db), s);
    } finally {
      await s.close();
    }
  };
  registerAdd(officers, run);
  registerRemove(officers, run);
  registerList(officers, run);
  registerPasswd(officers, run);
  registerRole(officers, run);
}
