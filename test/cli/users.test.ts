import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import knexFactory from "knex";
import { demarcCommand, workdir } from "../helpers/demarc.js";
import { KnexStore } from "../../src/core/knex-store.js";
import { credentialFor } from "../../src/access/c2s/credentials.js";
import { verifyPassword } from "../../src/access/c2s/scram.js";

const { dir, configPath } = workdir({
  domains: ["corp.test"],
  log: { level: "silent", format: "json" },
  data_dir: "data",
  archive: { url: "sqlite:core.db" },
  core: { max_contacts: 2 },
});
const run = (...args: string[]) => demarcCommand(["--config", configPath, "users", ...args], { cwd: dir });
const open = () => {
  const db = knexFactory({ client: "better-sqlite3", connection: { filename: join(dir, "data", "core.db") }, useNullAsDefault: true });
  return { db, store: new KnexStore(db) };
};
const dbs: { destroy(): Promise<void> }[] = [];
afterAll(async () => {
  for (const d of dbs) await d.destroy();
});

describe("demarc users", () => {
  it("adds, lists, changes the password of and removes a user; the password is stored only as SCRAM credentials", async () => {
    const add = await run("add", "alice", "--password", "s3cret-horse-42", "--group", "staff");
    expect(add).toMatchObject({ code: 0, stdout: "added alice@corp.test\n" });
    expect((await run("add", "alice@corp.test", "--password", "x-long-enough-1")).stderr).toContain("alice@corp.test already exists");
    const gen = await run("add", "bob@corp.test");
    expect(gen.stdout).toMatch(/^added bob@corp\.test with password \S{16}\n$/);
    const list = await run("list");
    expect(list.stdout).toBe("alice@corp.test\tstaff\t0 contacts\nbob@corp.test\t-\t0 contacts\n");
    const { db, store } = open();
    dbs.push(db);
    const alice = await store.getUser("alice@corp.test");
    expect(JSON.stringify(alice)).not.toContain("s3cret-horse-42");
    expect(verifyPassword("SHA-256", credentialFor(alice!.credentials, "SHA-256")!, "s3cret-horse-42")).toBe(true);
    expect((await run("passwd", "alice", "--password", "n3w-battery-staple")).stdout).toBe("password changed for alice@corp.test\n");
    expect(verifyPassword("SHA-1", credentialFor((await store.getUser("alice@corp.test"))!.credentials, "SHA-1")!, "n3w-battery-staple")).toBe(true);
    expect((await run("remove", "bob")).stdout).toBe("removed bob@corp.test\n");
    const gone = await run("remove", "bob");
    expect(gone.code).toBe(1);
    expect(gone.stderr).toBe("demarc: E_NO_USER: bob@corp.test does not exist\n");
  });

  it("refuses a password shorter than c2s.min_password_length (12), or with control characters", async () => {
    const short = await run("add", "frank", "--password", "x");
    expect(short).toMatchObject({ code: 64, stderr: "demarc: E_USAGE: the password has 1 character; at least 12 are required (c2s.min_password_length)\n" });
    const eleven = await run("add", "frank", "--password", "abcdefghijk");
    expect(eleven.code).toBe(64);
    const control = await run("add", "frank", "--password", "abcdefghijkl\u0007");
    expect(control.code).toBe(64);
    expect(control.stderr).toContain("U+0007");
    expect((await run("list")).stdout).not.toContain("frank");
    expect((await run("add", "frank", "--password", "abcdefghijkl")).code).toBe(0);
  });

  it("prepares localparts per PRECIS: NFC and NFD zoë are one account, ﬀ is refused rather than a second ff", async () => {
    const nfc = "zo\u00EB";
    const nfd = "zoe\u0308";
    expect((await run("add", nfc, "--password", "twelve-chars-ok")).stdout).toBe(`added ${nfc}@corp.test\n`);
    const again = await run("add", nfd, "--password", "twelve-chars-ok");
    expect(again.code).toBe(1);
    expect(again.stderr).toBe(`demarc: E_EXISTS: ${nfc}@corp.test already exists (use demarc users passwd to change the password)\n`);
    expect((await run("add", "ZOË", "--password", "twelve-chars-ok")).code).toBe(1);
    const lig = await run("add", "\uFB00", "--password", "twelve-chars-ok");
    expect(lig.code).toBe(64);
    expect(lig.stderr).toContain("U+FB00");
    expect((await run("add", "ff", "--password", "twelve-chars-ok")).code).toBe(0);
    expect((await run("remove", nfd)).stdout).toBe(`removed ${nfc}@corp.test\n`);
  });

  it("refuses addresses that are malformed or not hosted, with a usage error", async () => {
    const bad = await run("add", "a@b@c", "--password", "x");
    expect(bad.code).toBe(64);
    expect(bad.stderr).toMatch(/jid-malformed/);
    const foreign = await run("add", "x@partner.test", "--password", "x");
    expect(foreign.code).toBe(64);
    expect(foreign.stderr).toBe("demarc: E_USAGE: partner.test is not a hosted domain (corp.test)\n");
  });

  it("imports users and contact lists from CSV, mutual for hosted contacts, refusing rows over the limit by line", async () => {
    const csv = join(dir, "users.csv");
    writeFileSync(
      csv,
      [
        "jid,password,group,contact,name,roster_group",
        "carol@corp.test,carol-password-1,sales,,,",
        "dan@corp.test,dan-password-22,,,,",
        "erin@corp.test,erin-password-3,,,,",
        "carol@corp.test,,,dan@corp.test,Dan,Team",
        "carol@corp.test,,,x@partner.test,\"Partner, X\",External",
        "carol@corp.test,,,erin@corp.test,Erin,Team",
        "ghost@corp.test,,,dan@corp.test,,",
        "",
      ].join("\n"),
    );
    const r = await run("import", csv);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("imported: 3 users created, 0 passwords changed, 0 existing accounts kept, 2 contacts added, 0 already listed, 2 rows refused\n");
    expect(r.stderr).toContain(`${csv}: line 7: carol@corp.test would exceed the maximum of 2 contacts`);
    expect(r.stderr).toContain(`${csv}: line 8: ghost@corp.test does not exist`);
    const { db, store } = open();
    dbs.push(db);
    const carol = await store.loadRoster("carol@corp.test");
    expect(carol.map((i) => [i.jid, i.name, i.groups, i.subscription]).sort()).toEqual([
      ["dan@corp.test", "Dan", ["Team"], "both"],
      ["x@partner.test", "Partner, X", ["External"], "none"],
    ]);
    expect((await store.loadRoster("dan@corp.test")).map((i) => [i.jid, i.subscription])).toEqual([["carol@corp.test", "both"]]);
    expect((await run("import", join(dir, "missing.csv"))).code).toBe(64);

    // The same file again changes nothing, and says so.
    const before = (await store.getUser("dan@corp.test"))!.credentials;
    const again = await run("import", csv);
    expect(again.stdout).toBe("imported: 0 users created, 0 passwords changed, 3 existing accounts kept, 0 contacts added, 2 already listed, 2 rows refused\n");
    expect((await store.getUser("dan@corp.test"))!.credentials).toEqual(before);
    // Passwords change only when asked.
    const update = await run("import", csv, "--update-passwords");
    expect(update.stdout).toMatch(/^imported: 0 users created, 3 passwords changed, 0 existing accounts kept, /);
    expect(verifyPassword("SHA-256", credentialFor((await store.getUser("dan@corp.test"))!.credentials, "SHA-256")!, "dan-password-22")).toBe(true);
    expect((await store.getUser("dan@corp.test"))!.credentials).not.toEqual(before);
  });

  it("refuses an import row whose password is too short, and creates the rest", async () => {
    const csv = join(dir, "short.csv");
    writeFileSync(csv, "jid,password\nshort@corp.test,pw1\nlong@corp.test,long-enough-pw\n");
    const r = await run("import", csv);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^imported: 1 users created, /);
    expect(r.stderr).toContain(`${csv}: line 2: short@corp.test: the password has 3 characters; at least 12 are required (c2s.min_password_length)`);
  });
});
