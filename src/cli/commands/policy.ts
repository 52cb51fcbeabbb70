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
import { displayPath, loadPolicy, PolicyError } from "../../pipeline/policy/index.js";
import { formatTrace } from "../../pipeline/report.js";
import { readSample } from "../../pipeline/sample.js";
import { action } from "../run.js";

export function registerPolicy(program: Command): void {
  const policy = program.command("policy").description("compliance policy: lint, test, explain");
  /** DIR, else the config's policy.dir, else ./policies. */
  const folder = (dir: string | undefined): string => {
    if (dir) return resolve(dir);
    const path = program.opts<{ config?: string }>().config ?? (process.env.DEMARC_CONFIG || undefined);
    if (!path) return resolve("policies");
    const cfg = loadConfig({ path });
    return resolvePath(cfg, cfg.policy.dir);
  };
  const load = (dir: string) => {
    const { set, missing } = loadPolicy(dir);
    if (missing) throw new UsageError(`${displayPath(dir)}: no such policy folder`);
    return set;
  };

  policy
    .command("lint")
    .description("check every policy file; print each problem as FILE:LINE: rule ID: problem")
    .argument("[dir]", "policy folder (default: policy.dir of the config, else ./policies)")
    .action(
      action(async (dir?: string) => {
        const path = folder(dir);
        try {
          const set = load(path);
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
          process.stderr.write(`demarc: ${err.problems.length} problem${err.problems.length === 1 ? "" : "s"} found; nothing was loaded\n`);
          return EXIT.config;
        }
      }),
    );

  policy
    .command("test")
    .description("run a sample message through the policy: which rules fire, the verdict, the text delivered")
    .argument("[dir]", "policy folder (default: policy.dir of the config, else ./policies)")
    .requiredOption("-m, --message <file>", "sample message (YAML: direction, from, to, body, ...)")
    .action(
      action(async (dir: string | undefined, opts: { message: string }) => {
        const set = load(folder(dir));
        const { envelope, at } = readSample(opts.message);
        const pipeline = new CompliancePipeline(set, { log: createLogger({ level: "error", format: "json" }) });
        const trace = await pipeline.trace(envelope, at);
        process.stdout.write(formatTrace(set, envelope, trace));
        return EXIT.ok;
      }),
    );

  policy
    .command("explain")
    .description("describe a rule (or wall, limit, lexicon, external server, profile) in plain words")
    .argument("<id>", "the id to explain")
    .option("-d, --dir <dir>", "policy folder (default: policy.dir of the config, else ./policies)")
    .action(
      action(async (id: string, opts: { dir?: string }) => {
        const set = load(folder(opts.dir));
        const lines = explain(set, id);
        if (!lines) throw new UsageError(`no rule, wall, limit, lexicon, external server or profile has the id "${id}"`);
        process.stdout.write(`${lines.join("\n")}\n`);
        return EXIT.ok;
      }),
    );
}
