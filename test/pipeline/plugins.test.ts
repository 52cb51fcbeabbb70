/**
 * Plug-in stages from policy.plugins: real ES module files, loaded by the
 * compliance module as the gateway does, listed in a profile by name.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ConfigError } from "../../src/errors.js";
import { loadStagePlugins } from "../../src/pipeline/plugins.js";
import { envelope, memoryLog, startComplianceModule } from "./fixtures.js";

/** A deployment's own stage: blocks messages naming a project its DLP list keeps outside policy files. */
const KEYWORD_PLUGIN = `export default ({ log }) => ({
  name: "project-list",
  async evaluate({ envelope }) {
    if (!/\\bbluebird\\b/i.test(envelope.body ?? "")) return [];
    log.info({ id: envelope.id }, "project-list matched");
    return [{ action: "block", ruleId: "project-list:bluebird", reason: "Project Bluebird is on the restricted list." }];
  },
});
`;
const PROFILE = `kind: policy
profiles:
  - id: messages
    kinds: [message]
    priority: 10
    stages: [rules, project-list]
rules:
  - id: tag-all
    when: { kind: message }
    then: { action: tag, tags: [seen] }
`;

const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const s of stops.splice(0)) await s();
});

/** A config folder with plug-in modules beside demarc.yaml and policy files under policies/. */
function deployment(policies: Record<string, string>, modules: Record<string, string>, plugins: string[]): string {
  const base = mkdtempSync(join(tmpdir(), "demarc-plugins-"));
  mkdirSync(join(base, "policies"));
  for (const [name, text] of Object.entries(policies)) writeFileSync(join(base, "policies", name), text);
  for (const [name, text] of Object.entries(modules)) writeFileSync(join(base, name), text);
  writeFileSync(join(base, "demarc.yaml"), `policy:\n  dir: policies\n  watch: false\n  plugins: ${JSON.stringify(plugins)}\n`);
  return base;
}

async function start(base: string) {
  const started = await startComplianceModule(join(base, "demarc.yaml"));
  stops.push(() => started.mod.stop(0));
  return started;
}

describe("plug-in stages", () => {
  it("a plug-in listed in a profile blocks with its own rule id and reason, after the built-in stages before it", async () => {
    const base = deployment({ "00-profiles.yaml": PROFILE }, { "project-list.mjs": KEYWORD_PLUGIN }, ["./project-list.mjs"]);
    const { ctx, lines, delivered } = await start(base);
    expect(lines.find((l) => l.msg === "policy loaded")).toMatchObject({ plugins: ["project-list"] });

    const blocked = await ctx.router.route(envelope({ body: "the Bluebird numbers" }));
    expect(blocked).toMatchObject({ delivered: false, error: { condition: "policy-violation", text: "Project Bluebird is on the restricted list." } });
    const ok = await ctx.router.route(envelope({ body: "lunch?" }));
    expect(ok).toMatchObject({ delivered: true, envelope: { tags: ["seen"] } });
    expect(delivered.map((e) => e.body)).toEqual(["lunch?"]);
    expect(lines.some((l) => l.msg === "project-list matched" && l.module === "compliance-plugin")).toBe(true);
  });

  it("a verdict the pipeline does not know fails the message closed instead of letting it through", async () => {
    const sloppy = `export default { name: "sloppy", evaluate: () => [{ action: "alow" }] };\n`;
    const base = deployment({ "00.yaml": PROFILE.replace("project-list", "sloppy") }, { "sloppy.mjs": sloppy }, ["./sloppy.mjs"]);
    const { ctx, lines } = await start(base);
    expect(await ctx.router.route(envelope({ body: "anything" }))).toMatchObject({ delivered: false, error: { condition: "internal-server-error" } });
    expect(lines.find((l) => l.msg === "compliance stage failed; blocking")).toMatchObject({ stage: "sloppy", err: 'plug-in stage sloppy returned an unknown verdict "alow"' });
  });

  it("without the plug-in, a profile naming it is refused at start", async () => {
    const base = deployment({ "00-profiles.yaml": PROFILE }, {}, []);
    await expect(start(base)).rejects.toThrow(/profile messages: stages\.1: unknown stage "project-list"/);
  });

  it("refuses a missing module, a bad export, a bad or taken name, each in one line naming the config entry", async () => {
    const dir = mkdtempSync(join(tmpdir(), "demarc-plugins-"));
    const file = (name: string, text: string) => {
      writeFileSync(join(dir, name), text);
      return { path: join(dir, name), shown: `./${name}` };
    };
    const ctx = { log: memoryLog().log };
    const refusal = async (f: { path: string; shown: string }[]) => {
      const err = await loadStagePlugins(f, ctx).then(() => undefined, (e: unknown) => e);
      expect(err).toBeInstanceOf(ConfigError);
      return (err as Error).message;
    };
    expect(await refusal([{ path: join(dir, "nope.mjs"), shown: "./nope.mjs" }])).toBe("policy.plugins.0: ./nope.mjs: cannot load the plug-in (no such module)");
    expect(await refusal([file("empty.mjs", "export const x = 1;\n")])).toMatch(/^policy\.plugins\.0: \.\/empty\.mjs: the default export must be a stage/);
    expect(await refusal([file("shadow.mjs", `export default { name: "rules", evaluate: () => [] };\n`)])).toBe('policy.plugins.0: ./shadow.mjs: a stage named "rules" already exists');
    expect(await refusal([file("caps.mjs", `export default { name: "My Stage", evaluate: () => [] };\n`)])).toMatch(/stage name "My Stage" must be lower-case/);
    expect(await refusal([file("throws.mjs", `export default () => { throw new Error("no licence key"); };\n`)])).toBe("policy.plugins.0: ./throws.mjs: the plug-in failed to start (no licence key)");
    const a = file("a.mjs", `export default { name: "dup", evaluate: () => [] };\n`);
    expect(await refusal([a, a])).toBe('policy.plugins.1: ./a.mjs: a stage named "dup" already exists');
  });
});
