/**
 * Plug-in stages named in the config (policy.plugins): ES modules whose
 * default export is a Stage, or a function returning one, given the gateway's
 * logger. Profiles list them by the stage's name like a built-in. They load
 * once, at start: Node caches modules, so a changed plug-in needs a restart.
 *
 * A plug-in is the deployment's own code, so it is trusted to run, not to be
 * right: a verdict it returns that the pipeline does not know is an error in
 * that stage, and the pipeline fails closed on stage errors.
 */
import { pathToFileURL } from "node:url";
import { resolvePath, type LoadedConfig } from "../config/load.js";
import { ConfigError } from "../errors.js";
import type { Logger } from "../log.js";
import { ACTIONS } from "./policy/schema.js";
import { BUILTIN_STAGES, EXTERNAL_PREFIX } from "./policy/compile.js";
import type { Stage, StageInput, Verdict } from "./stage.js";

export interface PluginContext {
  log: Logger;
}

export type StagePlugin = Stage | ((ctx: PluginContext) => Stage | Promise<Stage>);

const STAGE_NAME = /^[a-z][a-z0-9-]{0,62}$/;
const KNOWN_ACTIONS: ReadonlySet<string> = new Set(ACTIONS);

function isStage(x: unknown): x is Stage {
  return typeof x === "object" && x !== null && typeof (x as Stage).name === "string" && typeof (x as Stage).evaluate === "function";
}

/** Checks each verdict a plug-in returns, so a typo in its code cannot pass as "allow". */
function guarded(stage: Stage): Stage {
  return {
    name: stage.name,
    async evaluate(input: StageInput): Promise<Verdict[]> {
      const out: unknown = await stage.evaluate(input);
      if (!Array.isArray(out)) throw new Error(`plug-in stage ${stage.name} returned ${typeof out}, not a list of verdicts`);
      for (const v of out as Verdict[]) {
        if (!v || !KNOWN_ACTIONS.has(v.action)) throw new Error(`plug-in stage ${stage.name} returned an unknown verdict ${JSON.stringify(v?.action)}`);
      }
      return out as Verdict[];
    },
  };
}

/** The config's policy.plugins as files: relative to the config file, shown as written. */
export function pluginFiles(cfg: LoadedConfig): { path: string; shown: string }[] {
  return cfg.policy.plugins.map((p) => ({ path: resolvePath(cfg, p), shown: p }));
}

/**
 * Imports the plug-ins in order. `files` are absolute paths; `shown` is how the
 * config wrote each, for the one-line error an operator reads.
 */
export async function loadStagePlugins(files: { path: string; shown: string }[], ctx: PluginContext): Promise<Stage[]> {
  const stages: Stage[] = [];
  const taken = new Set<string>(BUILTIN_STAGES);
  for (const [i, f] of files.entries()) {
    const where = `policy.plugins.${i}: ${f.shown}`;
    let mod: { default?: unknown };
    try {
      mod = (await import(pathToFileURL(f.path).href)) as { default?: unknown };
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      const why = e.code === "ERR_MODULE_NOT_FOUND" ? "no such module" : e.message.split("\n")[0];
      throw new ConfigError(`${where}: cannot load the plug-in (${why})`);
    }
    let stage: unknown = mod.default;
    try {
      if (typeof stage === "function") stage = await (stage as (c: PluginContext) => unknown)(ctx);
    } catch (err) {
      throw new ConfigError(`${where}: the plug-in failed to start (${(err as Error).message.split("\n")[0]})`);
    }
    if (!isStage(stage)) throw new ConfigError(`${where}: the default export must be a stage ({ name, evaluate }) or a function returning one`);
    if (!STAGE_NAME.test(stage.name)) throw new ConfigError(`${where}: stage name "${stage.name}" must be lower-case letters, digits and -`);
    if (taken.has(stage.name) || stage.name.startsWith(EXTERNAL_PREFIX)) throw new ConfigError(`${where}: a stage named "${stage.name}" already exists`);
    taken.add(stage.name);
    stages.push(guarded(stage));
  }
  return stages;
}
