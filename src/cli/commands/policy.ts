/**
 * `demarc policy lint|test|report|explain`: the compliance officer's tools.
 * They read the same folder, with the same loader, as the running gateway.
 */
import type { Command } from "commander";
import { resolve } from "node:path";
import { EXIT, UsageError } from "../../errors.js";
import { explain } from "../../pipeline/explain.js";
import { displayPath, PolicyError, type PolicySet } from "../../pipeline/policy/index.js";
import { formatTrace } from "../../pipeline/report.js";
import { readSample } from "../../pipeline/sample.js";
import { action } from "../run.js";
import { runSamples } from "./policy-samples.js";
import { policyCli, type PolicyCli } from "./policy-load.js";
import { openSession } from "../../archive/session.js";
import { parseTime } from "../archive-filters.js";
import { formatRuleReport, ruleReport } from "../../archive/rule-report.js";
import { mismatches } from "../../pipeline/expect.js";

export function registerPolicy(program: Command): void {
  const policy = program.command("policy").description("compliance policy: lint, test, report, explain");
  const cli = policyCli(program);
  registerLint(policy, cli);
  registerTest(policy, cli);
  registerReport(policy, cli);
  registerExplain(policy, cli);
}

/** "policies: OK: 3 files, 12 rules, ...; version ..." */
function lintSummary(path: string, set: PolicySet): string {
  const count = (n: number, what: string) => `${n} ${what}${n === 1 ? "" : "s"}`;
  return (
    `${displayPath(path)}: OK: ${count(set.files.length, "file")}, ${count(set.ruleDefs.length, "rule")}, ` +
    `${count(set.lexicons.size, "lexicon")}, ${count(set.walls.length, "wall")}, ${count(set.limits.length, "limit")}, ` +
    `${count(set.externals.length, "external server")}, ${count(set.profiles.length, "profile")}; version ${set.version}`
  );
}

function registerLint(policy: Command, cli: PolicyCli): void {
  policy
    .command("lint")
    .description("check every policy file; print each problem as FILE:LINE: rule ID: problem")
    .argument("[dir]", "policy folder (default: policy.dir of the config, else ./policies)")
    .action(
      action(async (dir?: string) => {
        try {
          const { path, set } = await cli.load(dir);
          for (const w of set.warnings) process.stderr.write(`${w}\n`);
          process.stdout.write(`${lintSummary(path, set)}\n`);
          return EXIT.ok;
        } catch (err) {
          if (!(err instanceof PolicyError)) throw err;
          for (const p of err.problems) process.stderr.write(`${p}\n`);
          process.stderr.write(`demarc: ${err.code}: ${err.problems.length} problem${err.problems.length === 1 ? "" : "s"} found; nothing was loaded\n`);
          return EXIT.config;
        }
      }),
    );
}

function registerTest(policy: Command, cli: PolicyCli): void {
  policy
    .command("test")
    .description("run a sample message through the policy (which rules fire, the verdict, the text delivered), or a folder of samples checked against their expect:")
    .argument("[dir]", "policy folder (default: policy.dir of the config, else ./policies)")
    .option("-m, --message <file>", "one sample message (YAML: direction, from, to, body, ..., expect)")
    .option("-s, --samples <dir>", "every sample in a folder; exit 1 when one's expect: does not hold")
    .action(
      action(async (dir: string | undefined, opts: { message?: string; samples?: string }) => {
        if (!opts.message === !opts.samples) throw new UsageError("give --message FILE or --samples DIR (one of them)");
        const { set, stages } = await cli.load(dir);
        const pipeline = cli.pipelineFor(set, stages);
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
}

function registerReport(policy: Command, cli: PolicyCli): void {
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
        const s = await openSession(cli.configOption(), o.actor);
        try {
          const report = await ruleReport(s.db, range);
          await s.audit("policy-report", range, report.records);
          if (o.json) {
            process.stdout.write(`${JSON.stringify(report)}\n`);
            return EXIT.ok;
          }
          let known: { id: string; shadow: boolean }[] = [];
          try {
            known = (await cli.load(undefined)).set.ruleDefs.filter((r) => r.def.enabled).map((r) => ({ id: r.def.id, shadow: r.def.shadow }));
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
}

function registerExplain(policy: Command, cli: PolicyCli): void {
  policy
    .command("explain")
    .description("describe a rule (or wall, limit, lexicon, external server, profile) in plain words")
    .argument("<id>", "the id to explain")
    .option("-d, --dir <dir>", "policy folder (default: policy.dir of the config, else ./policies)")
    .action(
      action(async (id: string, opts: { dir?: string }) => {
        const { set } = await cli.load(opts.dir);
        const lines = explain(set, id);
        if (!lines) throw new UsageError(`no rule, wall, limit, lexicon, external server or profile has the id "${id}"`);
        process.stdout.write(`${lines.join("\n")}\n`);
        return EXIT.ok;
      }),
    );
}
