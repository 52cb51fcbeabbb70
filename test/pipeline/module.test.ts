import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { envelope, policyDir, startComplianceModule } from "./fixtures.js";
import { until } from "../helpers/wait.js";

const GOOD = "kind: policy\nrules:\n  - id: no-falcon\n    when: { words: [falcon] }\n    then: { action: block }\n";
const BETTER = GOOD + "  - id: no-osprey\n    when: { words: [osprey] }\n    then: { action: block }\n";
const BAD = "kind: policy\nrules:\n  - id: broken\n    when: { words: [osprey] }\n    then: { action: explode }\n";

const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const s of stops.splice(0)) await s();
});

async function started(opts: { watch: boolean; files?: Record<string, string>; dirName?: string }) {
  const base = policyDir({});
  const dir = join(base, opts.dirName ?? "policies");
  if (opts.files) {
    mkdirSync(dir);
    for (const [n, t] of Object.entries(opts.files)) writeFileSync(join(dir, n), t);
  }
  writeFileSync(join(base, "demarc.yaml"), `policy:\n  dir: ${opts.dirName ?? "policies"}\n  watch: ${opts.watch}\n  watch_debounce_ms: 50\n`);
  const started = await startComplianceModule(join(base, "demarc.yaml"));
  stops.push(() => started.mod.stop(0));
  return { ...started, dir };
}

describe("compliance module: load and hot reload", () => {
  it("puts the pipeline in front of the router and publishes it as a service", async () => {
    const { ctx, pipeline, lines } = await started({ watch: false, files: { "10.yaml": GOOD } });
    expect(pipeline.policy.rules.map((r) => r.id)).toEqual(["no-falcon"]);
    expect(await ctx.router.route(envelope({ body: "falcon" }))).toMatchObject({ delivered: false, error: { condition: "policy-violation" } });
    expect(lines.find((l) => l.msg === "policy loaded")).toMatchObject({ rules: 1, version: pipeline.version });
  });

  it("SIGHUP reload: a good edit takes effect; a bad edit is refused, logged with file and line, and the previous policy keeps running", async () => {
    const { ctx, mod, dir, pipeline, lines } = await started({ watch: false, files: { "10.yaml": GOOD } });
    const v1 = pipeline.version;
    writeFileSync(join(dir, "10.yaml"), BETTER);
    await mod.reload!(ctx);
    const v2 = pipeline.version;
    expect(v2).not.toBe(v1);
    expect(lines.find((l) => l.msg === "policy reloaded")).toMatchObject({ why: "SIGHUP", previous: v1, version: v2, rules: 2 });
    expect((await ctx.router.route(envelope({ body: "osprey" }))).delivered).toBe(false);

    writeFileSync(join(dir, "20.yaml"), BAD);
    await mod.reload!(ctx);
    const refused = lines.find((l) => l.msg === "policy reload refused; the previous policy stays in force")!;
    expect(String(refused.err)).toMatch(/20\.yaml:5: rule broken: rules\.0\.then\.action: action must be one of/);
    expect(pipeline.version).toBe(v2);
    expect((await ctx.router.route(envelope({ body: "osprey" }))).delivered).toBe(false);
    expect((await ctx.router.route(envelope({ body: "hello" }))).delivered).toBe(true);
  });

  it("SIGHUP reload: a file with a regex RE2 cannot run is refused with file, line and rule id; the previous policy stays", async () => {
    const { ctx, mod, dir, pipeline, lines } = await started({ watch: false, files: { "10.yaml": GOOD } });
    const v1 = pipeline.version;
    writeFileSync(join(dir, "20.yaml"), "kind: policy\nrules:\n  - id: greedy\n    when:\n      body: ['(a+)\\1']\n    then: { action: block }\n");
    await mod.reload!(ctx);
    const refused = lines.find((l) => l.msg === "policy reload refused; the previous policy stays in force")!;
    expect(String(refused.err)).toMatch(/20\.yaml:5: rule greedy: regular expression '\(a\+\)\\1' cannot run on RE2: backreferences/);
    expect(pipeline.version).toBe(v1);
    expect((await ctx.router.route(envelope({ body: "falcon" }))).delivered).toBe(false);
    expect((await ctx.router.route(envelope({ body: "a".repeat(40) + "!" }))).delivered).toBe(true);
  });

  it("file watch: a saved change reloads by itself; a bad save is refused and the next good one loads", async () => {
    const { dir, pipeline, lines } = await started({ watch: true, files: { "10.yaml": GOOD } });
    const v1 = pipeline.version;
    writeFileSync(join(dir, "10.yaml"), BETTER);
    await until(() => pipeline.version !== v1);
    expect(lines.some((l) => l.msg === "policy reloaded" && l.why === "file change")).toBe(true);
    const v2 = pipeline.version;
    writeFileSync(join(dir, "10.yaml"), BAD);
    await until(() => lines.some((l) => l.msg.startsWith("policy reload refused")));
    expect(pipeline.version).toBe(v2);
    writeFileSync(join(dir, "10.yaml"), GOOD);
    await until(() => pipeline.version === v1);
  });

  it("a missing policy folder runs with an empty policy and says so", async () => {
    const { ctx, pipeline, lines } = await started({ watch: true, dirName: "no-such-folder" });
    expect(pipeline.policy.rules).toEqual([]);
    expect(lines.some((l) => l.msg === "policy folder not found; running with an empty policy")).toBe(true);
    expect((await ctx.router.route(envelope({ body: "anything" }))).delivered).toBe(true);
  });

  it("a bad policy at start stops the start with the file and line", async () => {
    await expect(started({ watch: false, files: { "10.yaml": BAD } })).rejects.toThrow(/10\.yaml:5: rule broken/);
  });
});
