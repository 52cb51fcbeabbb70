/**
 * `demarc officers` through the real binary: accounts with roles, generated
 * or piped passwords (never on the command line), the minimum length, TOTP
 * enrolment, role changes, removal, clear errors and exit codes, and every
 * change in the archive's audit trail under the OS user.
 */
import { spawn } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Secret, TOTP } from "otpauth";
import { verifyPassword } from "../../src/officers/password.js";
import { OfficerStore } from "../../src/officers/store.js";
import { withArchiveDb } from "../archive/helpers.js";
import { BIN, workdir } from "../helpers/demarc.js";

const { dir, configPath } = workdir({ domains: ["corp.test"], log: { level: "silent", format: "json" }, data_dir: "data", admin: { token_account: { name: "ci-bot", role: "reviewer" } } });

/** Runs the command with `input` on its standard input; bounded by a timeout. */
function officers(args: string[], input = ""): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, "--config", configPath, "officers", ...args], { cwd: dir, env: { ...process.env, DEMARC_CONFIG: "" } });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (c: string) => (stdout += c));
    child.stderr.setEncoding("utf8").on("data", (c: string) => (stderr += c));
    const timer = setTimeout(() => (child.kill("SIGKILL"), reject(new Error(`officers ${args.join(" ")}: no exit within 20 s`))), 20_000);
    child.on("close", (code) => (clearTimeout(timer), resolve({ code, stdout, stderr })));
    child.stdin.end(input);
  });
}

const withStore = <T>(fn: (s: OfficerStore) => Promise<T>) => withArchiveDb(join(dir, "data"), (db) => fn(new OfficerStore(db)));

describe("demarc officers", () => {
  it("adds accounts with a generated or a piped password, hashed with scrypt", async () => {
    const gen = await officers(["add", "Olga", "--role", "officer"]);
    expect(gen.code, gen.stderr).toBe(0);
    const pw = /^password for olga: (\S{24}) {2}\(shown once; hand it over privately\)$/m.exec(gen.stdout)?.[1];
    expect(gen.stdout.split("\n")[0]).toBe("added olga (officer)");
    expect(pw).toMatch(/^\S{24}$/);
    const piped = await officers(["add", "rita", "--role", "reviewer", "--password-stdin"], "a long enough secret\n");
    expect([piped.code, piped.stdout]).toEqual([0, "added rita (reviewer)\n"]);
    await withStore(async (s) => {
      const [olga, rita] = [await s.get("olga"), await s.get("rita")];
      expect(olga?.passwordHash).toMatch(/^scrypt\$/);
      expect(await verifyPassword(pw!, olga!.passwordHash!)).toBe(true);
      expect(await verifyPassword("a long enough secret", rita!.passwordHash!)).toBe(true);
    });
  });

  it("refuses short passwords, unknown roles, bad names and duplicates with exit 64", async () => {
    expect(await officers(["add", "tom", "--role", "reviewer", "--password-stdin"], "short\n")).toMatchObject({ code: 64, stderr: "demarc: E_USAGE: a password needs at least 12 characters (this one has 5)\n" });
    expect(await officers(["add", "tom", "--role", "god"])).toMatchObject({ code: 64, stderr: 'demarc: E_USAGE: role "god" is not one of reviewer, officer, admin\n' });
    expect((await officers(["add", "<script>", "--role", "reviewer"])).code).toBe(64);
    expect(await officers(["add", "OLGA", "--role", "admin"])).toMatchObject({ code: 64, stderr: 'demarc: E_USAGE: account "olga" exists already\n' });
    expect(await officers(["remove", "nobody"])).toMatchObject({ code: 1, stderr: 'demarc: E_NO_OFFICER: no console account "nobody" (demarc officers list shows them)\n' });
  });

  it("enrols TOTP, changes roles, lists and removes, each change audited", async () => {
    const t = await officers(["passwd", "rita", "--password-stdin", "--totp"], "another long secret\n");
    expect(t.code, t.stderr).toBe(0);
    const uri = /^otpauth:\/\/totp\/demarc:rita\?\S+$/m.exec(t.stdout)?.[0];
    const secret = new URL(uri!).searchParams.get("secret")!;
    await withStore(async (s) => expect((await s.get("rita"))?.totpSecret).toBe(secret));
    expect(new TOTP({ secret: Secret.fromBase32(secret) }).generate()).toMatch(/^\d{6}$/);
    expect((await officers(["role", "rita", "admin"])).stdout).toBe("rita is now admin\n");
    const list = await officers(["list", "--json"]);
    const rows = list.stdout.trim().split("\n").map((l) => JSON.parse(l));
    expect(rows.map((r) => [r.name, r.role, r.kind, r.totp ?? null])).toEqual([["olga", "officer", "person", false], ["rita", "admin", "person", true], ["ci-bot", "reviewer", "service", null]]);
    expect((await officers(["remove", "olga"])).stdout).toBe("removed olga\n");
    const audit = await withArchiveDb(join(dir, "data"), (db) => db("archive_audit").select("action", "query").orderBy("id"));
    expect(audit.map((a) => a.action)).toEqual(["officer-add", "officer-add", "officer-passwd", "officer-role", "officer-remove"]);
    expect(JSON.stringify(audit)).not.toMatch(/secret/);
  });
});
