/**
 * Console accounts on both back ends: scrypt hashes, the minimum length,
 * back-off then lockout on failed logins (kept in the database), TOTP as a
 * second factor, unknown names refused like wrong passwords, and an audit
 * table the database itself keeps append-only.
 */
import { Secret, TOTP } from "otpauth";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { login, newTotpSecret, totpFor } from "../../src/officers/login.js";
import { hashPassword, passwordProblem, verifyPassword } from "../../src/officers/password.js";
import { allows } from "../../src/officers/roles.js";
import { OfficerStore } from "../../src/officers/store.js";
import { openPg, openSqlite, PG_SKIP_REASON, PG_URL, type TestDb } from "../archive/helpers.js";

describe("passwords and roles", () => {
  it("hashes with scrypt, salted, and verifies only the right password", async () => {
    const [a, b] = await Promise.all([hashPassword("correct horse battery"), hashPassword("correct horse battery")]);
    expect(a).toMatch(/^scrypt\$32768\$8\$3\$[A-Za-z0-9+/=]{24}\$[A-Za-z0-9+/=]{44}$/);
    expect(a).not.toBe(b);
    expect(await verifyPassword("correct horse battery", a)).toBe(true);
    expect(await verifyPassword("correct horse batterY", a)).toBe(false);
    expect(await verifyPassword("x", "md5$abc")).toBe(false);
    expect(passwordProblem("short")).toBe("a password needs at least 12 characters (this one has 5)");
    expect(passwordProblem("twelve chars")).toBeUndefined();
  });

  it("orders roles reviewer < officer < admin", () => {
    expect([allows("reviewer", "reviewer"), allows("reviewer", "officer"), allows("officer", "reviewer"), allows("officer", "admin"), allows("admin", "officer")]).toEqual([true, false, true, false, true]);
  });
});

function suite(name: string, open: () => Promise<TestDb>, skip?: string) {
  describe.skipIf(!!skip)(`officer login on ${name}`, () => {
    let t: TestDb;
    let clock = Date.parse("2026-01-01T00:00:00Z");
    const now = () => clock;
    let store: OfficerStore;
    const policy = { lockAfter: 4, lockMinutes: 15 };
    const PW = "a long enough password";

    beforeAll(async () => {
      t = await open();
      store = new OfficerStore(t.db, now);
      const hash = await hashPassword(PW);
      expect(await store.add({ name: "Olga", role: "officer", kind: "person", passwordHash: hash, totpSecret: null })).toBe(true);
      expect(await store.add({ name: "olga", role: "admin", kind: "person", passwordHash: hash, totpSecret: null })).toBe(false);
      expect(await store.add({ name: "tess", role: "reviewer", kind: "person", passwordHash: hash, totpSecret: newTotpSecret() })).toBe(true);
    });
    afterAll(async () => t?.close());

    it("logs in with the right password, case-folding the name", async () => {
      expect(await login(store, policy, { name: "OLGA", password: PW }, now)).toEqual({ ok: true, principal: { name: "olga", role: "officer", kind: "person" } });
      expect((await store.get("olga"))?.lastLoginAt).toBe(clock);
    });

    it("refuses unknown names exactly like wrong passwords", async () => {
      expect(await login(store, policy, { name: "mallory", password: PW }, now)).toEqual({ ok: false, reason: "invalid" });
    });

    it("backs off after each failure, then locks until a new password is set", async () => {
      expect(await login(store, policy, { name: "olga", password: "wrong password!" }, now)).toEqual({ ok: false, reason: "invalid" });
      // Within the 1 s back-off even the right password is refused, without being checked.
      expect(await login(store, policy, { name: "olga", password: PW }, now)).toEqual({ ok: false, reason: "locked", retryAt: clock + 1000 });
      clock += 1000;
      expect((await login(store, policy, { name: "olga", password: "wrong password!" }, now)).ok).toBe(false);
      expect((await store.get("olga"))?.lockedUntil).toBe(clock + 2000);
      clock += 2000;
      expect((await login(store, policy, { name: "olga", password: "wrong password!" }, now)).ok).toBe(false);
      clock += 4000;
      expect(await login(store, policy, { name: "olga", password: "wrong password!" }, now)).toEqual({ ok: false, reason: "locked", retryAt: clock + 15 * 60_000 });
      clock += 14 * 60_000;
      expect((await login(store, policy, { name: "olga", password: PW }, now)).ok).toBe(false);
      expect(await store.setPassword("olga", await hashPassword(PW))).toBe(true);
      expect((await login(store, policy, { name: "olga", password: PW }, now)).ok).toBe(true);
      expect((await store.get("olga"))?.failures).toBe(0);
    });

    it("asks for the TOTP code after the password and takes only a current one", async () => {
      const secret = (await store.get("tess"))!.totpSecret!;
      expect(await login(store, policy, { name: "tess", password: PW }, now)).toEqual({ ok: false, reason: "need-code" });
      const other = new TOTP({ secret: Secret.fromBase32(newTotpSecret()) }).generate({ timestamp: clock });
      expect(await login(store, policy, { name: "tess", password: PW, code: other }, now)).toEqual({ ok: false, reason: "invalid" });
      clock += 1000;
      const code = totpFor("tess", secret).generate({ timestamp: clock });
      expect(await login(store, policy, { name: "tess", password: PW, code }, now)).toEqual({ ok: true, principal: { name: "tess", role: "reviewer", kind: "person" } });
      // The same code again, even within its 30 s, is a replay.
      clock += 2000;
      expect(await login(store, policy, { name: "tess", password: PW, code }, now)).toEqual({ ok: false, reason: "invalid" });
      clock += 30_000;
      const next = totpFor("tess", secret).generate({ timestamp: clock });
      expect((await login(store, policy, { name: "tess", password: PW, code: next }, now)).ok).toBe(true);
      const stale = totpFor("tess", secret).generate({ timestamp: clock - 5 * 60_000 });
      expect((await login(store, policy, { name: "tess", password: PW, code: stale }, now)).ok).toBe(false);
    });

    it("changes roles and removes accounts", async () => {
      expect(await store.setRole("tess", "admin")).toBe(true);
      expect((await store.get("tess"))?.role).toBe("admin");
      expect(await store.remove("tess")).toBe(true);
      expect(await store.remove("tess")).toBe(false);
      expect((await store.list()).map((o) => o.name)).toEqual(["olga"]);
    });

    it("keeps the audit trail append-only in the database", async () => {
      await t.db("archive_audit").insert({ at: clock, actor: "olga", action: "search", query: null, result: 0 });
      await expect(t.db("archive_audit").update({ actor: "the-ceo" })).rejects.toThrow(/append-only/);
      await expect(t.db("archive_audit").delete()).rejects.toThrow(/append-only/);
      expect(await t.db("archive_audit").select("actor")).toEqual([{ actor: "olga" }]);
    });
  });
}

suite("SQLite", openSqlite);
suite("PostgreSQL", () => openPg(), PG_URL ? undefined : PG_SKIP_REASON);
