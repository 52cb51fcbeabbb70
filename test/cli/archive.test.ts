/**
 * `demarc archive` as an operator runs it: the real binary against an archive
 * the test fills, through the config file. On SQLite, and on PostgreSQL in a
 * schema of the test's own named by the URL (?schema=), which the running
 * gateway honours too. Loopback addresses: 127.0.6.20-127.0.6.29.
 */
import { chmodSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDatabase, type Db } from "../../src/archive/db.js";
import { KnexArchiveStore } from "../../src/archive/knex-store.js";
import { toRecord } from "../../src/archive/record.js";
import { allow, envelope, PG_SKIP_REASON, PG_URL, uniqueSchema, withArchiveDb } from "../archive/helpers.js";
import { BASE_PORTS, baseConfig, demarcCommand, runDemarc, workdir } from "../helpers/demarc.js";

const DAY = 86_400_000;
let dir = "";
let cfg = "";

const withDb = <T>(fn: (db: Db) => Promise<T>) => withArchiveDb(join(dir, "data"), fn);

const demarc = (...args: string[]) => demarcCommand(["--config", cfg, "archive", ...args], { cwd: dir });

beforeAll(async () => {
  ({ dir, configPath: cfg } = workdir({
    domains: ["corp.test"],
    data_dir: "data",
    log: { level: "error", format: "json" },
    archive: { retention: { default_days: 365 } },
  }));
  await withDb(fill);
});

/** Two old records (one to be held), and a thread of two whose reply is quarantined. */
async function fill(db: Db): Promise<void> {
  const now = Date.now();
  const envs = [
    envelope({ receivedAt: now - 1000 * DAY, from: "old@acme.example", to: "x@corp.test", body: "ancient news" }),
    envelope({ receivedAt: now - 1000 * DAY, from: "held@acme.example", to: "x@corp.test", body: "ancient but held" }),
    envelope({ receivedAt: now - 2 * DAY, from: "carol@acme.example/pc", to: "dave@corp.test", thread: "deal", subject: "Deal", body: "the merger, \"quietly\"\nFrom now on" }),
    envelope({ receivedAt: now - DAY, from: "dave@corp.test", to: "carol@acme.example", direction: "outbound", thread: "deal", body: "agreed" }),
  ];
  const store = new KnexArchiveStore(db);
  await store.append(envs.map((e, i) =>
    toRecord(e, i === 3 ? { deliver: false, envelope: e, policyVersion: "p", quarantined: true, verdicts: [{ stage: "rules", ruleId: "no-deals", action: "quarantine" }] } as never : allow(e)),
  ));
}

describe("demarc archive (SQLite)", () => {
  it("searches by participant and text, shows a thread in order", async () => {
    const s = await demarc("search", "--participant", "carol@acme.example", "--actor", "analyst");
    expect(s.code, s.stderr).toBe(0);
    const lines = s.stdout.trim().split("\n");
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^#3 .* inbound message carol@acme\.example\/pc -> dave@corp\.test \(allow\) \[Deal\] the merger/);
    expect(lines[1]).toMatch(/\(quarantine:no-deals\) agreed$/);
    const j = await demarc("search", "--text", "merger", "--json", "--since", new Date(Date.now() - 10 * DAY).toISOString().slice(0, 10));
    expect(j.code, j.stderr).toBe(0);
    const rows = j.stdout.trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(rows.map((r) => r.seq)).toEqual([3]);
    expect(rows[0]).toMatchObject({ verdict: "allow", tlsVersion: "TLSv1.3", auth: "certificate" });
    const q = await demarc("search", "--verdict", "quarantine", "--rule", "no-deals");
    expect(q.stdout).toContain("agreed");
    const t = await demarc("thread", "deal");
    expect(t.stdout).toMatch(/^\S+Z carol@acme\.example\/pc: the merger, "quietly"\nFrom now on\n\S+Z dave@corp\.test \[quarantine no-deals\]: agreed\n$/);
  });

  it("exports JSON lines, CSV and mbox to files", async () => {
    // An older, world-readable file in the way: the export must not inherit its mode.
    writeFileSync(join(dir, "out.csv"), "old");
    chmodSync(join(dir, "out.csv"), 0o644);
    for (const format of ["jsonl", "csv", "mbox"]) {
      const r = await demarc("export", "--format", format, "--output", join(dir, `out.${format}`), "--domain", "acme.example");
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toContain("exported 4 record(s)");
    }
    for (const format of ["jsonl", "csv", "mbox"]) expect((statSync(join(dir, `out.${format}`)).mode & 0o777).toString(8), format).toBe("600");
    const jsonl = readFileSync(join(dir, "out.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l) as { body: string; hash: string });
    expect(jsonl).toHaveLength(4);
    expect(jsonl[2]!.body).toBe('the merger, "quietly"\nFrom now on');
    expect(jsonl[2]!.hash).toMatch(/^[0-9a-f]{64}$/);
    const csv = readFileSync(join(dir, "out.csv"), "utf8");
    expect(csv.split("\r\n")[0]).toMatch(/^seq,time,direction,/);
    expect(csv).toContain('"the merger, ""quietly""\nFrom now on"');
    const mbox = readFileSync(join(dir, "out.mbox"), "utf8");
    expect(mbox.match(/^From \S+ \w{3} \w{3} +\d+ \d\d:\d\d:\d\d \d{4}$/gm)).toHaveLength(4);
    expect(mbox).toContain("\n>From now on\n");
    expect(mbox).toContain("X-Demarc-Verdict: quarantine (no-deals)");
    const bad = await demarc("export", "--format", "xml");
    expect(bad.code).toBe(64);
    // An output that cannot be written: one line, exit 1, and the attempt is in the audit log.
    const nowhere = join(dir, "no-such-folder", "out.jsonl");
    const failed = await demarc("export", "--format", "jsonl", "--output", nowhere, "--actor", "leaker");
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain(`demarc: E_EXPORT_OUTPUT: --output ${nowhere}: cannot write (ENOENT); nothing was exported`);
    expect(failed.stderr).not.toMatch(/\n\s+at /);
    expect((await demarc("audit", "--limit", "1")).stdout).toMatch(/ leaker export-failed \{"format":"jsonl".*"error":"ENOENT[^"]*"\} -> 0$/m);
    // A disk that fills up during the export (/dev/full answers every write with ENOSPC).
    const full = await demarc("export", "--format", "csv", "--output", "/dev/full", "--actor", "leaker");
    expect(full.code).toBe(1);
    expect(full.stderr).toMatch(/demarc: E_EXPORT_INCOMPLETE: --output \/dev\/full: cannot write \(ENOSPC\) after \d record\(s\); the file is incomplete\n$/);
    expect((await demarc("audit", "--limit", "1")).stdout).toMatch(/ leaker export-failed \{"format":"csv","output":"\/dev\/full".*ENOSPC/);
    const badTime = await demarc("search", "--since", "last tuesday");
    expect(badTime.code).toBe(64);
    expect(badTime.stderr).toMatch(/--since "last tuesday" is not a date/);
  });

  it("holds, purges by retention, verifies, and audits who did what", async () => {
    const hold = await demarc("hold", "add", "--participant", "held@acme.example", "--reason", "case 7", "--actor", "counsel");
    expect(hold.stdout).toContain("hold 1 placed (user: held@acme.example)");
    expect((await demarc("hold", "list")).stdout).toMatch(/^1 user held@acme\.example by counsel .* "case 7"$/m);
    const dry = await demarc("purge", "--dry-run");
    expect(dry.stdout).toContain("would purge 1 record(s); 1 kept by legal holds");
    const p = await demarc("purge", "--actor", "records-mgr");
    expect(p.stdout).toMatch(/^purged 1 record\(s\); 1 kept by legal holds \(purge 1\)$/m);
    expect((await demarc("search", "--text", "ancient")).stdout).toContain("ancient but held");
    const v = await demarc("verify");
    expect(v.code, v.stderr).toBe(0);
    expect(v.stdout).toContain("ok: 4 record(s) verified (1 purged");
    await withDb((db) => db("archive_message").where({ seq: 3 }).update({ body: "edited" }));
    const broken = await demarc("verify", "--actor", "auditor");
    expect(broken.code).toBe(1);
    expect(broken.stdout).toMatch(/^BROKEN at record 3: hash mismatch/);
    const audit = await demarc("audit");
    const actions = audit.stdout.trim().split("\n").map((l) => l.split(" ").slice(1, 3).join(" "));
    expect(actions.slice(0, 4)).toEqual(["auditor verify", expect.stringMatching(/ verify$/), expect.stringMatching(/ search$/), "records-mgr purge"]);
    expect(actions).toContain("counsel hold");
    expect(actions).toContain("analyst search");
    expect(audit.stdout).toMatch(/ export \{"format":"csv"/);
  });
});

describe.skipIf(!PG_URL)("demarc archive (PostgreSQL, schema from the URL)", () => {
  const schema = uniqueSchema();
  let pgDir = "";
  let pgCfg = "";
  let db: Db;
  const pg = (...args: string[]) => demarcCommand(["--config", pgCfg, "archive", ...args], { cwd: pgDir });

  beforeAll(async () => {
    const url = `${PG_URL}${PG_URL!.includes("?") ? "&" : "?"}schema=${schema}`;
    ({ dir: pgDir, configPath: pgCfg } = workdir(baseConfig("127.0.6.20", { data_dir: "data", archive: { url, retention: { default_days: 365 } } })));
    db = await openDatabase(PG_URL!, pgDir, 5, { schema });
  });
  afterAll(async () => {
    await db?.raw("drop schema if exists ?? cascade", [schema]);
    await db?.destroy();
  });

  it("the gateway migrates and opens the schema the URL names", async () => {
    const p = runDemarc(["--config", pgCfg, "start"], { cwd: pgDir });
    try {
      const migrated = await p.waitForLog((l) => l.msg === "database migrated");
      expect(migrated.migrations).toEqual(expect.arrayContaining(["010_archive"]));
      await p.waitForLog((l) => l.msg === "demarc started");
      expect((await fetch(`http://127.0.6.20:${BASE_PORTS.admin}/readyz`)).status).toBe(200);
    } finally {
      await p.stop();
    }
    const tables = await db.raw("select table_name from information_schema.tables where table_schema = ? order by 1", [schema]);
    expect((tables.rows as { table_name: string }[]).map((r) => r.table_name)).toEqual(expect.arrayContaining(["archive_message", "archive_audit", "knex_migrations"]));
    await fill(db);
  });

  it("searches, exports and verifies through the real binary", async () => {
    const s = await pg("search", "--participant", "carol@acme.example", "--actor", "analyst");
    expect(s.code, s.stderr).toBe(0);
    const lines = s.stdout.trim().split("\n");
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^#3 .* inbound message carol@acme\.example\/pc -> dave@corp\.test \(allow\) \[Deal\] the merger/);
    expect(lines[1]).toMatch(/\(quarantine:no-deals\) agreed$/);
    const j = await pg("search", "--text", '"the merger"', "--json");
    expect(j.code, j.stderr).toBe(0);
    expect(j.stdout.trim().split("\n").map((l) => (JSON.parse(l) as { seq: number }).seq)).toEqual([3]);

    const out = join(pgDir, "out.jsonl");
    const e = await pg("export", "--format", "jsonl", "--output", out, "--domain", "acme.example", "--actor", "counsel");
    expect(e.code, e.stderr).toBe(0);
    expect(e.stderr).toContain("exported 4 record(s)");
    const rows = readFileSync(out, "utf8").trim().split("\n").map((l) => JSON.parse(l) as { body: string; hash: string });
    expect(rows.map((r) => r.body)).toEqual(["ancient news", "ancient but held", 'the merger, "quietly"\nFrom now on', "agreed"]);

    const v = await pg("verify");
    expect(v.code, v.stderr).toBe(0);
    expect(v.stdout).toContain("ok: 4 record(s) verified");
    expect(v.stdout).toMatch(new RegExp(`head: seq 4 sha256 ${rows[3]!.hash}`));
    await db("archive_message").where({ seq: 2 }).update({ body: "rewritten" });
    const broken = await pg("verify", "--actor", "auditor");
    expect(broken.code).toBe(1);
    expect(broken.stdout).toMatch(/^BROKEN at record 2: hash mismatch/);

    // The audit trail is in the same schema.
    const audit = (await db("archive_audit").select("actor", "action").orderBy("id")) as { actor: string; action: string }[];
    expect(audit.map((a) => `${a.actor} ${a.action}`)).toEqual(expect.arrayContaining(["analyst search", "counsel export", "auditor verify"]));
    expect(audit).toHaveLength(5);
  });
});

// Only without a server: the skip says why, instead of counting as a skip when the tests above ran.
if (!PG_URL) {
  describe("demarc archive (PostgreSQL, schema from the URL)", () => {
    it.skip(PG_SKIP_REASON, () => undefined);
  });
}
