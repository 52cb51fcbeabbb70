import { writeFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { demarcCommand, ROOT, workdir } from "../helpers/demarc.js";

const shipped = join(ROOT, "policies");

describe("demarc policy", () => {
  it("lint: the shipped examples pass with a summary and version", async () => {
    const r = await demarcCommand(["policy", "lint", shipped], { cwd: ROOT });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^policies: OK: \d+ files, \d+ rules, 3 lexicons, 2 walls, 3 limits, 1 external server, 3 profiles; version [0-9a-f]{16}\n$/);
  });

  it("lint: every problem is listed as FILE:LINE: rule ID: problem, exit 78", async () => {
    const { dir } = workdir();
    mkdirSync(join(dir, "policies"));
    writeFileSync(join(dir, "policies", "10-dlp.yaml"), "kind: policy\nrules:\n  - id: r1\n    then: { action: shred }\n");
    writeFileSync(join(dir, "policies", "20-x.yaml"), "kind: lexicn\n");
    const r = await demarcCommand(["policy", "lint"], { cwd: dir });
    expect(r.code).toBe(78);
    expect(r.stderr.split("\n")).toEqual([
      "policies/10-dlp.yaml:4: rule r1: rules.0.then.action: action must be one of allow, block, redact, quarantine, tag, disclaimer, copy",
      'policies/20-x.yaml:1: kind: unknown kind "lexicn" (one of policy, lexicon, state-map)',
      "demarc: E_POLICY: 2 problems found; nothing was loaded",
      "",
    ]);
  });

  it("lint with --config knows groups set with users add --group and in core.groups; without them a wall naming them is an error at its line", async () => {
    const { dir, configPath } = workdir({ domains: ["corp.test"], data_dir: "data", policy: { dir: "policies" }, core: { groups: { trading: { members: ["*@trading.corp.test"] } } } });
    mkdirSync(join(dir, "policies"));
    writeFileSync(join(dir, "policies", "30-walls.yaml"), "kind: policy\nwalls:\n  - id: wall-rt\n    from: group:research\n    to: group:trading\n");
    const before = await demarcCommand(["--config", configPath, "policy", "lint"], { cwd: dir });
    expect(before.code).toBe(78);
    expect(before.stderr).toContain('policies/30-walls.yaml:4: wall wall-rt: unknown group "research" (define it under groups:, in core.groups, or on accounts with users add --group)');
    expect(before.stderr).not.toContain('"trading"');

    const add = await demarcCommand(["--config", configPath, "users", "add", "carol", "--password", "pw-carol-long-1", "--group", "research"], { cwd: dir });
    expect(add.code, add.stderr).toBe(0);
    const after = await demarcCommand(["--config", configPath, "policy", "lint"], { cwd: dir });
    expect(after.stderr).toBe("");
    expect(after.code).toBe(0);
    const bare = await demarcCommand(["policy", "lint", join(dir, "policies")], { cwd: dir });
    expect(bare.code).toBe(78);
    expect(bare.stderr).toContain('wall wall-rt: unknown group "research"');
    expect(bare.stderr).toContain('wall wall-rt: unknown group "trading"');
  });

  it("lint and test load the config's plug-in stages, so a profile naming one checks and runs as in the gateway", async () => {
    const { dir, configPath } = workdir({ policy: { dir: "policies", plugins: ["./plugins/project-list.mjs"] } });
    mkdirSync(join(dir, "policies"));
    mkdirSync(join(dir, "plugins"));
    writeFileSync(
      join(dir, "plugins", "project-list.mjs"),
      `export default { name: "project-list", evaluate: ({ envelope }) => /bluebird/i.test(envelope.body ?? "") ? [{ action: "block", ruleId: "project-list:bluebird", reason: "restricted project" }] : [] };\n`,
    );
    writeFileSync(join(dir, "policies", "00.yaml"), "kind: policy\nprofiles:\n  - id: messages\n    kinds: [message]\n    stages: [project-list]\n");
    writeFileSync(join(dir, "sample.yaml"), "direction: outbound\nfrom: alice@corp.example\nto: bob@partner.example\nbody: Bluebird launch plan\n");

    const lint = await demarcCommand(["--config", configPath, "policy", "lint"], { cwd: dir });
    expect(lint.stderr).toBe("");
    expect(lint.stdout).toMatch(/^policies: OK: 1 file, 0 rules/);
    const without = await demarcCommand(["policy", "lint", join(dir, "policies")], { cwd: dir });
    expect(without.code).toBe(78);
    expect(without.stderr).toContain('profile messages: stages.0: unknown stage "project-list"');

    const t = await demarcCommand(["--config", configPath, "policy", "test", "--message", join(dir, "sample.yaml")], { cwd: dir });
    expect(t.code, t.stderr).toBe(0);
    expect(t.stdout).toContain("Checked by: profile messages: project-list");
    expect(t.stdout).toMatch(/project-list:bluebird: BLOCK/);
  });

  it("test: which rules fire, the verdict and the text the recipient sees", async () => {
    const r = await demarcCommand(["policy", "test", "--message", join(shipped, "samples", "card-to-partner.yaml")], { cwd: ROOT });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("Checked by: profile messages: limits -> walls -> rules -> lexicons");
    expect(r.stdout).toMatch(/1\. redact-payment-cards: REDACT \(1 redacted\)/);
    expect(r.stdout).toContain("Verdict: DELIVERED, with changes");
    expect(r.stdout).toContain("  | Please charge my card [card number removed] for the invoice.");
    expect(r.stdout).not.toContain("4111");

    const b = await demarcCommand(["policy", "test", shipped, "-m", join(shipped, "samples", "research-to-trading.yaml")], { cwd: ROOT });
    expect(b.stdout).toContain("1. wall-research-trading: BLOCK");
    expect(b.stdout).toContain("Verdict: BLOCKED: not delivered");
    expect(b.stdout).toContain("The sender is told: An information barrier prevents this conversation. (policy-violation)");
  });

  it("test --samples: the shipped samples all meet their expect:, exit 0", async () => {
    const r = await demarcCommand(["policy", "test", shipped, "--samples", join(shipped, "samples")], { cwd: ROOT });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("ok    policies/samples/card-to-partner.yaml: redact\n");
    expect(r.stdout).toMatch(/\n5 samples: 5 passed, 0 failed, 0 without expect:, 0 unreadable\n$/);
  });

  it("test --samples: a mismatch fails with exit 1, an unreadable sample with 78, and every other sample still runs", async () => {
    const { dir } = workdir();
    mkdirSync(join(dir, "samples"));
    const msg = (body: string, expectation: string) => `direction: outbound\nfrom: alice@corp.example\nto: bob@partner.example\nbody: "${body}"\nexpect: ${expectation}\n`;
    writeFileSync(join(dir, "samples", "a-codename.yaml"), msg("project falcon is late", "allow"));
    writeFileSync(join(dir, "samples", "b-card.yaml"), msg("card 4111 1111 1111 1111", "{ verdict: deliver, rules: [redact-payment-cards, no-such-rule] }"));
    writeFileSync(join(dir, "samples", "c-fine.yaml"), msg("hello", "allow"));
    writeFileSync(join(dir, "samples", "d-unchecked.yaml"), "from: a@corp.example\nto: b@partner.example\nbody: hi\n");
    const r = await demarcCommand(["policy", "test", shipped, "--samples", join(dir, "samples")], { cwd: dir });
    expect(r.code).toBe(1);
    const lines = r.stdout.trimEnd().split("\n").map((l) => l.replace(/\S*samples\//, ""));
    expect(lines).toEqual([
      "FAIL  a-codename.yaml: expected allow, got block",
      "FAIL  b-card.yaml: expected rule no-such-rule to fire; fired: redact-payment-cards, disclaimer-external",
      "ok    c-fine.yaml: allow",
      "----  d-unchecked.yaml: allow (no expect:)",
      "4 samples: 1 passed, 2 failed, 1 without expect:, 0 unreadable",
    ]);

    writeFileSync(join(dir, "samples", "e-typo.yaml"), msg("hi", "blocked"));
    const bad = await demarcCommand(["policy", "test", shipped, "--samples", join(dir, "samples")], { cwd: dir });
    expect(bad.code).toBe(78);
    expect(bad.stdout).toMatch(/ERROR \S*e-typo\.yaml:5: expect: expect must be one of allow, deliver, redact, block, quarantine, or \{ verdict, rules, tags \}\n/);

    const both = await demarcCommand(["policy", "test", shipped], { cwd: dir });
    expect(both.code).toBe(64);
    expect(both.stderr).toContain("give --message FILE or --samples DIR");
  });

  it("test --message with expect: says whether it holds and exits 1 when it does not", async () => {
    const { dir } = workdir();
    writeFileSync(join(dir, "s.yaml"), "from: alice@corp.example\nto: bob@partner.example\nbody: project osprey\nexpect: allow\n");
    const r = await demarcCommand(["policy", "test", shipped, "-m", join(dir, "s.yaml")], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/\nExpectation FAILED: expected allow, got block\n$/);
  });

  it("test: a bad sample names its file and key", async () => {
    const { dir } = workdir();
    writeFileSync(join(dir, "s.yaml"), "from: a@b\nto: c@d\ncolour: red\n");
    const r = await demarcCommand(["policy", "test", shipped, "-m", join(dir, "s.yaml")], { cwd: dir });
    expect(r.code).toBe(78);
    expect(r.stderr).toMatch(/s\.yaml:3: colour: unknown key\n$/);
  });

  it("explain: a rule in plain words; an unknown id is a usage error", async () => {
    const r = await demarcCommand(["policy", "explain", "dlp-draft-results", "--dir", shipped], { cwd: ROOT });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("Rule dlp-draft-results  (policies/10-dlp-block.yaml, line");
    expect(r.stdout).toContain("    - the message is outbound");
    expect(r.stdout).toContain("  Mode: SHADOW: recorded in the archive, not enforced");
    const u = await demarcCommand(["policy", "explain", "nope", "--dir", shipped], { cwd: ROOT });
    expect(u.code).toBe(64);
    expect(u.stderr).toBe('demarc: E_USAGE: no rule, wall, limit, lexicon, external server or profile has the id "nope"\n');
  });
});
