/**
 * `demarc policy lint|test|explain`: the compliance officer's tools. They read
 * the same folder, with the same loader, as the running gateway.
 */
import type { Command } from "commander";
import { resolve } from "node:path";
import { loadConfig, resolvePath } from "../../config/load.js";
import { EXIT, UsageError } from "../../errors.js";
import { createLogger } from "../../log.js";
import { explain } from "../../pipeline/explain.js";
import { CompliancePipeline } from "../../pipeline/pipeline.js";
import { displayPath, loadPolicy, PolicyError, type PolicySet } from "../../pipeline/policy/index.js";
import { loadStagePlugins, pluginFiles } from "../../pipeline/plugins.js";
import type { Stage } from "../../pipeline/stage.js";
import { formatTrace } from "../../pipeline/report.js";
import { readSample } from "../../pipeline/sample.js";
import { action } from "../run.js";
import { cliDirectory } from "./policy-directory.js";
import { runSamples } from "./policy-samples.js";
import { openSession, parseTime } from "../../archive/session.js";
import { formatRuleReport, ruleReport } from "../../archive/rule-report.js";
import { mismatches } from "../../pipeline/expect.js";
import { federationFacts } from "../../pipeline/directory.js";

export function registerPolicy(program: Command): void {
  const policy = program.command("policy").description("compliance policy: lint, test, report, explain");
  const config = () => {
    const path = program.opts<{ config?: string }>().config ?? (process.env.DEMARC_CONFIG || undefined);
    return path ? loadConfig({ path }) : undefined;
  };
  /**
   * The folder (DIR, else the config's policy.dir, else ./policies) and the
   * config's plug-in stages, so profiles naming them check and run as in the gateway.
   */
  const load = async (dir: string | undefined) => {
    const cfg = config();
    const path = dir ? resolve(dir) : cfg ? resolvePath(cfg, cfg.policy.dir) : resolve("policies");
    const stages = cfg ? await loadStagePlugins(pluginFiles(cfg), { log: createLogger({ level: "error", format: "json" }) }) : [];
    // With a config, groups of core.groups and of accounts count as the gateway would see them.
    const directory = cfg ? await cliDirectory(cfg) : undefined;
    const federation = cfg ? federationFacts(cfg) : undefined;
    const { set, missing } = loadPolicy(path, { extraStages: stages.map((st) => st.name), groups: () => directory, federation });
    if (missing) throw new UsageError(`${displayPath(path)}: no such policy folder`);
    return { path, set, stages };
  };
  const pipelineFor = (set: PolicySet, stages: Stage[]) => {
    const pipeline = new CompliancePipeline(set, { log: createLogger({ level: "error", format: "json" }) });
    for (const st of stages) pipeline.registerStage(st);
    return pipeline;
  };

  policy
    .command("lint")
    .description("check every policy file; print each problem as FILE:LINE: rule ID: problem")
    .argument("[dir]", "policy folder (default: policy.dir of the config, else ./policies)")
    .action(
      action(async (dir?: string) => {
        try {
          const { path, set } = await load(dir);
          for (const w of set.warnings) process.stderr.write(`${w}\n`);
          const count = (n: number, what: string) => `${n} ${what}${n === 1 ? "" : "s"}`;
          process.stdout.write(
            `${displayPath(path)}: OK: ${count(set.files.length, "file")}, ${count(set.ruleDefs.length, "rule")}, ` +
              `${count(set.lexicons.size, "lexicon")}, ${count(set.walls.length, "wall")}, ${count(set.limits.length, "limit")}, ` +
              `${count(set.externals.length, "external server")}, ${count(set.profiles.length, "profile")}; version ${set.version}\n`,
          );
          return EXIT.ok;
        } catch (err) {
          if (!(err instanceof PolicyError)) throw err;
          for (const p of err.problems) process.stderr.write(`${p}\n`);
          process.stderr.write(`demarc: ${err.code}: ${err.problems.length} problem${err.problems.length === 1 ? "" : "s"} found; nothing was loaded\n`);
          return EXIT.config;
        }
      }),
    );

  policy
    .command("test")
    .description("run a sample message through the policy (which rules fire, the verdict, the text delivered), or a folder of samples checked against their expect:")
    .argument("[dir]", "policy folder (default: policy.dir of the config, else ./policies)")
    .option("-m, --message <file>", "one sample message (YAML: direction, from, to, body, ..., expect)")
    .option("-s, --samples <dir>", "every sample in a folder; exit 1 when one's expect: does not hold")
    .action(
      action(async (dir: string | undefined, opts: { message?: string; samples?: string }) => {
        if (!opts.message === !opts.samples) throw new UsageError("give --message FILE or --samples DIR (one of them)");
        const { set, stages } = await load(dir);
        const pipeline = pipelineFor(set, stages);
        if (opts.samples) return runSamples(pipeline, resolve(opts.samples), (line) => process.stdout.write(`${line}\n`));
        const { envelope, at, expect } = readSample(opts.message!);
        const trace = await pipeline.trace(envelope, at);
        process.stdout.write(formatTrace(set, envelope, trace));
        if (!expect) return EXIT.ok;
        const wrong = mismatches(expect, trace.decision);
        process.stdout.write(wrong.length ? `\nExpectation FAILED: ${wrong.join("; ")}\n` : `\nExpectation met: ${expect.verdict}\n`);
        return wrong.length ? EXIT.failure : EXIT.ok;
      }),
    );

  policy
    .command("report")
    .description("per rule, shadow ones included: how often it fired in the archive, on which directions and partners, sample records")
    .option("--since <time>", "from this time (ISO 8601, UTC unless an offset is given); default: everything")
    .option("--until <time>", "up to this time, exclusive")
    .option("--json", "the figures as one JSON object")
    .option("--actor <name>", "who is asking, for the audit log (default: the OS user)")
    .action(
      action(async (o: { since?: string; until?: string; json?: boolean; actor?: string }) => {
        const range = { since: parseTime(o.since, "--since"), until: parseTime(o.until, "--until") };
        const s = await openSession(program.opts<{ config?: string }>().config, o.actor);
        try {
          const report = await ruleReport(s.db, range);
          await s.audit("policy-report", range, report.records);
          if (o.json) {
            process.stdout.write(`${JSON.stringify(report)}\n`);
            return EXIT.ok;
          }
          let known: { id: string; shadow: boolean }[] = [];
          try {
            known = (await load(undefined)).set.ruleDefs.filter((r) => r.def.enabled).map((r) => ({ id: r.def.id, shadow: r.def.shadow }));
          } catch {
            // The report stands on the archive alone; a policy folder that does not load only loses the "did not fire" line.
          }
          const when = o.since ? `since ${new Date(range.since!).toISOString()}` : "in the whole archive";
          process.stdout.write(formatRuleReport(report, o.until ? `${when} until ${new Date(range.until!).toISOString()}` : when, known));
          return EXIT.ok;
        } finally {
          await s.close();
        }
      }),
    );

  policy
    .command("explain")
    .description("describe a rule (or wall, limit, lexicon, external server, profile) in plain words")
    .argument("<id>", "the id to explain")
    .option("-d, --dir <dir>", "policy folder (default: policy.dir of the config, else ./policies)")
    .action(
      action(async (id: string, opts: { dir?: string }) => {
        const { set } = await load(opts.dir);
        const lines = explain(set, id);
        if (!lines) throw new UsageError(`no rule, wall, limit, lexicon, external server or profile has the id "${id}"`);
        process.stdout.write(`${lines.join("\n")}\n`);
        return EXIT.ok;
      }),
    );
}
