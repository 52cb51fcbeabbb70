/**
 * How the policy commands load what the gateway would: the folder (DIR, else
 * the config's policy.dir, else ./policies), the config's plug-in stages, and
 * with a config the groups of core.groups and of accounts.
 */
import type { Command } from "commander";
import { resolve } from "node:path";
import { loadConfig, resolvePath } from "../../config/load.js";
import { UsageError } from "../../errors.js";
import { createLogger } from "../../log.js";
import { CompliancePipeline } from "../../pipeline/pipeline.js";
import { displayPath, loadPolicy, type PolicySet } from "../../pipeline/policy/index.js";
import { loadStagePlugins, pluginFiles } from "../../pipeline/plugins.js";
import type { Stage } from "../../pipeline/stage.js";
import { federationFacts } from "../../pipeline/directory.js";
import { cliDirectory } from "./policy-directory.js";

export interface PolicyCli {
  /** --config as given (the config loader falls back to DEMARC_CONFIG itself). */
  configOption(): string | undefined;
  load(dir: string | undefined): Promise<{ path: string; set: PolicySet; stages: Stage[] }>;
  pipelineFor(set: PolicySet, stages: Stage[]): CompliancePipeline;
}

export function policyCli(program: Command): PolicyCli {
  const configPath = () => program.opts<{ config?: string }>().config ?? (process.env.DEMARC_CONFIG || undefined);
  const config = () => {
    const path = configPath();
    return path ? loadConfig({ path }) : undefined;
  };
  return {
    configOption: () => program.opts<{ config?: string }>().config,
    async load(dir) {
      const cfg = config();
      const path = dir ? resolve(dir) : cfg ? resolvePath(cfg, cfg.policy.dir) : resolve("policies");
      const stages = cfg ? await loadStagePlugins(pluginFiles(cfg), { log: createLogger({ level: "error", format: "json" }) }) : [];
      // With a config, groups of core.groups and of accounts count as the gateway would see them.
      const directory = cfg ? await cliDirectory(cfg) : undefined;
      const federation = cfg ? federationFacts(cfg) : undefined;
      const { set, missing } = loadPolicy(path, { extraStages: stages.map((st) => st.name), groups: () => directory, federation });
      if (missing) throw new UsageError(`${displayPath(path)}: no such policy folder`);
      return { path, set, stages };
    },
    pipelineFor(set, stages) {
      const pipeline = new CompliancePipeline(set, { log: createLogger({ level: "error", format: "json" }) });
      for (const st of stages) pipeline.registerStage(st);
      return pipeline;
    },
  };
}
