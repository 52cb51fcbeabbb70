/**
 * Console accounts in the archive database (console_officer, migration 070).
 * Returns data; the CLI and the console render it. Names are case-folded so
 * "Olga" and "olga" cannot be two accounts that read alike in the audit log.
 */
import type { Knex } from "knex";
import type { Role } from "./roles.js";

export interface Officer {
  name: string;
  role: Role;
  kind: "person" | "service";
  passwordHash: string | null;
  totpSecret: string | null;
  /** The last TOTP time step a login used. */
  totpStep: number | null;
  failures: number;
  lockedUntil: number | null;
  lastLoginAt: number | null;
  createdAt: number;
  updatedAt: number;
}

const NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/;

/** Why a name cannot be an account name, or undefined. */
export function nameProblem(name: string): string | undefined {
  return NAME.test(name) ? undefined : `"${name}" is not an account name: 1 to 64 of a-z, 0-9, ".", "_", "-", starting with a letter or digit`;
}

export const normalName = (name: string) => name.trim().toLowerCase();

const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

function toOfficer(r: Record<string, unknown>): Officer {
  return {
    name: r.name as string,
    role: r.role as Role,
    kind: r.kind as Officer["kind"],
    passwordHash: (r.password_hash as string | null) ?? null,
    totpSecret: (r.totp_secret as string | null) ?? null,
    totpStep: num(r.totp_step),
    failures: Number(r.failures),
    lockedUntil: num(r.locked_until),
    lastLoginAt: num(r.last_login_at),
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
  };
}

export class OfficerStore {
  constructor(private readonly db: Knex, private readonly now: () => number = Date.now) {}

  async get(name: string): Promise<Officer | undefined> {
    const row = await this.db("console_officer").where({ name: normalName(name) }).first();
    return row ? toOfficer(row) : undefined;
  }

  async list(): Promise<Officer[]> {
    return (await this.db("console_officer").select("*").orderBy("name")).map(toOfficer);
  }

  /** False when the name is taken. */
  async add(o: { name: string; role: Role; kind: Officer["kind"]; passwordHash: string | null; totpSecret: string | null }): Promise<boolean> {
    if (await this.get(o.name)) return false;
    const at = this.now();
    try {
      await this.db("console_officer").insert({ name: normalName(o.name), role: o.role, kind: o.kind, password_hash: o.passwordHash, totp_secret: o.totpSecret, failures: 0, created_at: at, updated_at: at });
      return true;
    } catch (err) {
      // Added by someone else between the check and the insert: the primary key refused ours.
      if (await this.get(o.name)) return false;
      throw err;
    }
  }

  async remove(name: string): Promise<boolean> {
    return (await this.db("console_officer").where({ name: normalName(name) }).delete()) > 0;
  }

  /** A new password also clears failed attempts and any lockout: it is how an admin unlocks an account. */
  async setPassword(name: string, passwordHash: string): Promise<boolean> {
    return this.update(name, { password_hash: passwordHash, failures: 0, locked_until: null });
  }

  async setTotp(name: string, secret: string | null): Promise<boolean> {
    return this.update(name, { totp_secret: secret, totp_step: null });
  }

  async setRole(name: string, role: Role): Promise<boolean> {
    return this.update(name, { role });
  }

  /** Counts a failed login atomically (parallel attempts all count) and returns the new count. */
  async recordFailure(name: string, lockedUntil: (failures: number) => number): Promise<number> {
    return this.db.transaction(async (trx) => {
      await trx("console_officer").where({ name }).increment("failures", 1);
      const row = await trx("console_officer").where({ name }).first();
      const failures = Number(row?.failures ?? 0);
      await trx("console_officer").where({ name }).update({ locked_until: lockedUntil(failures) });
      return failures;
    });
  }

  /**
   * A successful login; with a TOTP step, only if no login used that step or
   * a later one (false then: the code was replayed, perhaps in parallel).
   */
  async recordLogin(name: string, totpStep?: number): Promise<boolean> {
    const qb = this.db("console_officer").where({ name: normalName(name) });
    if (totpStep !== undefined) qb.where((b) => b.whereNull("totp_step").orWhere("totp_step", "<", totpStep));
    const n = await qb.update({ failures: 0, locked_until: null, last_login_at: this.now(), updated_at: this.now(), ...(totpStep !== undefined ? { totp_step: totpStep } : {}) });
    return n > 0;
  }

  private async update(name: string, values: Record<string, unknown>): Promise<boolean> {
    return (await this.db("console_officer").where({ name: normalName(name) }).update({ ...values, updated_at: this.now() })) > 0;
  }
}
