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
    const add = await run("add", "alice", "--password", "s3cret", "--group", "staff");
    expect(add).toMatchObject({ code: 0, stdout: "added alice@corp.test\n" });
    expect((await run("add", "alice@corp.test", "--password", "x")).stderr).toContain("alice@corp.test already exists");
    const gen = await run("add", "bob@corp.test");
    expect(gen.stdout).toMatch(/^added bob@corp\.test with password \S{16}\n$/);
    const list = await run("list");
    expect(list.stdout).toBe("alice@corp.test\tstaff\t0 contacts\nbob@corp.test\t-\t0 contacts\n");
    const { db, store } = open();
    dbs.push(db);
    const alice = await store.getUser("alice@corp.test");
    expect(JSON.stringify(alice)).not.toContain("s3cret");
    expect(verifyPassword("SHA-256", credentialFor(alice!.credentials, "SHA-256")!, "s3cret")).toBe(true);
    expect((await run("passwd", "alice", "--password", "n3w")).stdout).toBe("password changed for alice@corp.test\n");
    expect(verifyPassword("SHA-1", credentialFor((await store.getUser("alice@corp.test"))!.credentials, "SHA-1")!, "n3w")).toBe(true);
    expect((await run("remove", "bob")).stdout).toBe("removed bob@corp.test\n");
    const gone = await run("remove", "bob");
    expect(gone.code).toBe(1);
    expect(gone.stderr).toBe("demarc: bob@corp.test does not exist\n");
  });

  it("refuses addresses that are malformed or not hosted, with a usage error", async () => {
    const bad = await run("add", "a@b@c", "--password", "x");
    expect(bad.code).toBe(64);
    expect(bad.stderr).toMatch(/jid-malformed/);
    const foreign = await run("add", "x@partner.test", "--password", "x");
    expect(foreign.code).toBe(64);
    expect(foreign.stderr).toBe("demarc: partner.test is not a hosted domain (corp.test)\n");
  });

  it("imports users and contact lists from CSV, mutual for hosted contacts, refusing rows over the limit by line", async () => {
    const csv = join(dir, "users.csv");
    writeFileSync(
      csv,
      [
        "jid,password,group,contact,name,roster_group",
        "carol@corp.test,pw1,sales,,,",
        "dan@corp.test,pw2,,,,",
        "erin@corp.test,pw3,,,,",
        "carol@corp.test,,,dan@corp.test,Dan,Team",
        "carol@corp.test,,,x@partner.test,\"Partner, X\",External",
        "carol@corp.test,,,erin@corp.test,Erin,Team",
        "ghost@corp.test,,,dan@corp.test,,",
        "",
      ].join("\n"),
    );
    const r = await run("import", csv);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("imported: 3 users created, 0 passwords changed, 2 contacts added, 2 rows refused\n");
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
  });
});
