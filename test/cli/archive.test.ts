/**
 * `demarc archive` as an operator runs it: the real binary against an archive
 * the test fills, through the config file.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { migrate, openDatabase, type Db } from "../../src/archive/db.js";
import { KnexArchiveStore } from "../../src/archive/knex-store.js";
import { toRecord } from "../../src/archive/record.js";
import { allow, envelope } from "../archive/helpers.js";
import { demarcCommand, workdir } from "../helpers/demarc.js";

const DAY = 86_400_000;
let dir = "";
let cfg = "";

async function withDb<T>(fn: (db: Db) => Promise<T>): Promise<T> {
  const db = await openDatabase("sqlite:archive.db", join(dir, "data"));
  try {
    await migrate(db);
    return await fn(db);
  } finally {
    await db.destroy();
  }
}

const demarc = (...args: string[]) => demarcCommand(["--config", cfg, "archive", ...args], { cwd: dir });

beforeAll(async () => {
  ({ dir, configPath: cfg } = workdir({
    domains: ["corp.test"],
    data_dir: "data",
    log: { level: "error", format: "json" },
    archive: { retention: { default_days: 365 } },
  }));
  const now = Date.now();
  const envs = [
    envelope({ receivedAt: now - 1000 * DAY, from: "old@acme.example", to: "x@corp.test", body: "ancient news" }),
    envelope({ receivedAt: now - 1000 * DAY, from: "held@acme.example", to: "x@corp.test", body: "ancient but held" }),
    envelope({ receivedAt: now - 2 * DAY, from: "carol@acme.example/pc", to: "dave@corp.test", thread: "deal", subject: "Deal", body: "the merger, \"quietly\"\nFrom now on" }),
    envelope({ receivedAt: now - DAY, from: "dave@corp.test", to: "carol@acme.example", direction: "outbound", thread: "deal", body: "agreed" }),
  ];
  await withDb(async (db) => {
    const store = new KnexArchiveStore(db);
    await store.append(envs.map((e, i) =>
      toRecord(e, i === 3 ? { deliver: false, envelope: e, policyVersion: "p", quarantined: true, verdicts: [{ stage: "rules", ruleId: "no-deals", action: "quarantine" }] } as never : allow(e)),
    ));
  });
});

describe("demarc archive", () => {
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
    for (const format of ["jsonl", "csv", "mbox"]) {
      const r = await demarc("export", "--format", format, "--output", join(dir, `out.${format}`), "--domain", "acme.example");
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toContain("exported 4 record(s)");
    }
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
