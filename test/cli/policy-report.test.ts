/**
 * `demarc archive search` filter checks and `demarc policy report`, as an
 * officer runs them: the real binary against an archive the test fills.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import type { Db } from "../../src/archive/db.js";
import { KnexArchiveStore } from "../../src/archive/knex-store.js";
import { writeOutcome } from "../../src/archive/outcomes.js";
import { toRecord } from "../../src/archive/record.js";
import type { Decision } from "../../src/model/route.js";
import { allow, envelope, withArchiveDb } from "../archive/helpers.js";
import { demarcCommand, workdir } from "../helpers/demarc.js";

const DAY = 86_400_000;
let dir = "";
let cfg = "";
const demarc = (...args: string[]) => demarcCommand(["--config", cfg, ...args], { cwd: dir });

beforeAll(async () => {
  ({ dir, configPath: cfg } = workdir({ domains: ["corp.test"], data_dir: "data", log: { level: "error", format: "json" }, policy: { dir: "policies" } }));
  mkdirSync(join(dir, "policies"));
  writeFileSync(
    join(dir, "policies", "10.yaml"),
    "kind: policy\nrules:\n  - id: trial-numbers\n    shadow: true\n    when: { body: ['numbers'] }\n    then: { action: block }\n  - id: quiet\n    when: { words: [never-said] }\n    then: { action: block }\n",
  );
  const now = Date.now();
  const shadow = (e: ReturnType<typeof envelope>): Decision => ({ ...allow(e), verdicts: [{ stage: "rules", ruleId: "trial-numbers", action: "block", shadow: true }] });
  const envs = [
    envelope({ receivedAt: now - 10 * DAY, body: "old numbers" }),
    envelope({ receivedAt: now - DAY, direction: "outbound", from: "a@corp.test", to: "x@acme.example", partnerDomain: "acme.example", thread: "t-1", body: "Q1 numbers" }),
    envelope({ receivedAt: now - DAY, body: "Q2 numbers" }),
    envelope({ receivedAt: now - DAY, body: "hello" }),
  ];
  await withArchiveDb(join(dir, "data"), async (db: Db) => {
    await new KnexArchiveStore(db).append(envs.map((e, i) => toRecord(e, i === 3 ? allow(e) : shadow(e))));
    await writeOutcome(db, { msgId: envs[1]!.id, at: now, outcome: "refused", condition: "not-allowed", detail: "acme.example is not an allowed partner" });
  });
});

describe("archive search filters", () => {
  it.each([
    [["--verdict", "blocked"], '--verdict "blocked" is not a valid verdict; use one of: allow, block, quarantine, released'],
    [["--kind", "mesage"], '--kind "mesage" is not a valid kind; use one of: message, presence, subscription, groupchat, file-transfer, iq'],
    [["--direction", "out"], '--direction "out" is not a valid direction; use one of: inbound, outbound, internal'],
    [["--outcome", "sent"], '--outcome "sent" is not a valid outcome; use one of: delivered, stored-offline, discarded, bounced, refused, blocked, held, released, rejected'],
  ])("%s is a usage error (exit 64) naming the valid values", async (args, line) => {
    const r = await demarc("archive", "search", ...args);
    expect(r.code).toBe(64);
    expect(r.stderr).toBe(`demarc: E_USAGE: ${line}\n`);
    expect(r.stdout).toBe("");
  });

  it("--rule finds shadow hits; --outcome finds what routing refused, shown with its outcome", async () => {
    const r = await demarc("archive", "search", "--rule", "trial-numbers");
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim().split("\n")).toHaveLength(3);
    const refused = await demarc("archive", "search", "--outcome", "refused");
    expect(refused.stdout).toMatch(/^#2 .* outbound message a@corp\.test -> x@acme\.example \(allow; refused: not-allowed\) Q1 numbers\n$/);
    const t = await demarc("archive", "thread", "t-1");
    expect(t.stdout).toMatch(/ a@corp\.test \[refused: not-allowed\]: Q1 numbers\n$/);
    const j = await demarc("archive", "search", "--outcome", "refused", "--json");
    expect(JSON.parse(j.stdout).outcomes).toEqual([expect.objectContaining({ outcome: "refused", condition: "not-allowed", detail: "acme.example is not an allowed partner" })]);
  });
});

describe("policy report", () => {
  it("per rule, shadow included: count, directions, partners, samples; silent rules named", async () => {
    const since = new Date(Date.now() - 3 * DAY).toISOString();
    const r = await demarc("policy", "report", "--since", since);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(
      [
        `Rules that fired since ${since}: 1 rule(s) over 3 archived record(s) with a verdict list`,
        "",
        "trial-numbers [SHADOW]: fired on 2 record(s) (block 2)",
        "  directions: inbound 1, outbound 1",
        "  partners:   acme.example 1, partner.example 1",
        "  samples:    #2 #3  (demarc archive search --rule trial-numbers)",
        "",
        `Did not fire since ${since}: quiet`,
        "",
      ].join("\n"),
    );
    const all = await demarc("policy", "report", "--json");
    expect(JSON.parse(all.stdout)).toMatchObject({ records: 4, rules: [{ ruleId: "trial-numbers", fired: 3, shadow: 3, enforced: 0 }] });
    expect((await demarc("policy", "report", "--since", "yesterday")).code).toBe(64);
  });
});
