/**
 * The compliance module: loads the policy folder, puts the pipeline in front
 * of the router, and reloads it on SIGHUP and (policy.watch) when a file
 * changes. A reload that finds a bad file logs every problem and keeps the
 * policy in force; a bad policy at start stops the start, because running
 * without the policy the officers wrote would be worse than not running.
 */
import { Counter, Histogram, type Registry } from "prom-client";
import type { Decision } from "../model/route.js";
import { resolvePath } from "../config/load.js";
import type { GatewayContext, GatewayModule } from "../module.js";
import { federationFacts, POLICY_LAYER } from "./directory.js";
import { GroupDirectory, type GroupSource } from "./groups.js";
import { CompliancePipeline } from "./pipeline.js";
import { displayPath, loadPolicy, PolicyError, type PolicySet } from "./policy/index.js";
import { loadStagePlugins, pluginFiles } from "./plugins.js";
import type { Stage } from "./stage.js";
import { LimitState } from "./stages/limits.js";
import { watchFolder } from "./watch.js";

export interface ComplianceWiring {
  /**
   * The gateway's one group directory: policy files are checked against its
   * other layers (config, accounts, connectors) and publish their own groups
   * into it. Without one, only the policy files' groups exist.
   */
  directory?: GroupDirectory | undefined;
}

function loadFolder(ctx: GatewayContext, others: GroupSource, plugins: Stage[]) {
  const dir = resolvePath(ctx.config, ctx.config.policy.dir);
  return {
    dir,
    ...loadPolicy(dir, {
      groups: () => others,
      federation: federationFacts(ctx.config),
      extraStages: plugins.map((p) => p.name),
    }),
  };
}

function summary(set: PolicySet) {
  return {
    version: set.version,
    files: set.files.length,
    rules: set.rules.length,
    walls: set.walls.length,
    limits: set.limits.length,
    lexicons: set.lexicons.size,
    external: set.externals.filter((x) => x.def.enabled).length,
    profiles: set.profiles.length,
  };
}

/** Verdicts per stage and action, enforced and shadow apart. */
type VerdictTally = Map<string, Map<string, { enforced: number; shadow: number }>>;

/**
 * The compliance metrics, and what records one decision in them. Counts are
 * plain numbers bumped per decision and handed to prom-client only when
 * /metrics is read: a decision costs an increment, not a label object and a
 * label hash per counter.
 */
function decisionMetrics(registry: Registry): (decision: Decision, seconds: number) => void {
  const tally: VerdictTally = new Map();
  const outcomes = { delivered: 0, quarantined: 0, blocked: 0 };
  new Counter({
    name: "demarc_compliance_verdicts_total",
    help: "Verdicts by stage and action (shadow verdicts counted apart)",
    labelNames: ["stage", "action", "shadow"],
    registers: [registry],
    collect() {
      this.reset();
      for (const [stage, actions] of tally) {
        for (const [action, n] of actions) {
          if (n.enforced) this.inc({ stage, action, shadow: "no" }, n.enforced);
          if (n.shadow) this.inc({ stage, action, shadow: "yes" }, n.shadow);
        }
      }
    },
  });
  new Counter({
    name: "demarc_compliance_decisions_total",
    help: "Compliance decisions by outcome",
    labelNames: ["outcome"],
    registers: [registry],
    collect() {
      this.reset();
      for (const [outcome, n] of Object.entries(outcomes)) if (n) this.inc({ outcome }, n);
    },
  });
  const latency = new Histogram({
    name: "demarc_compliance_duration_seconds",
    help: "Time the compliance pipeline added per envelope",
    buckets: [0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
    registers: [registry],
  }).labels();
  return (decision, seconds) => {
    latency.observe(seconds);
    if (decision.deliver) outcomes.delivered++;
    else if (decision.quarantined) outcomes.quarantined++;
    else outcomes.blocked++;
    for (const v of decision.verdicts) {
      let actions = tally.get(v.stage);
      if (!actions) tally.set(v.stage, (actions = new Map()));
      let n = actions.get(v.action);
      if (!n) actions.set(v.action, (n = { enforced: 0, shadow: 0 }));
      if (v.shadow) n.shadow++;
      else n.enforced++;
    }
  };
}

export function complianceModule(wiring: ComplianceWiring = {}): GatewayModule & { pipeline?: CompliancePipeline } {
  const directory = wiring.directory ?? new GroupDirectory();
  const others = directory.without(POLICY_LAYER);
  let watcher: { close(): void } | undefined;
  let watchedDir: string | undefined;
  let ctxRef: GatewayContext | undefined;
  let plugins: Stage[] = [];
  let pluginPaths = "";

  const load = (ctx: GatewayContext) => loadFolder(ctx, others, plugins);

  const reload = (ctx: GatewayContext, why: string): void => {
    const pipeline = mod.pipeline;
    if (!pipeline) return;
    const previous = pipeline.version;
    if (ctx.config.policy.plugins.join("\n") !== pluginPaths) {
      ctx.log.warn({ plugins: ctx.config.policy.plugins }, "policy.plugins changed; plug-in stages load at start, so this takes a restart");
    }
    try {
      const next = load(ctx);
      pipeline.use(next.set);
      directory.setLayer(POLICY_LAYER, next.set.groups.definitions);
      for (const w of next.set.warnings) ctx.log.warn({ warning: w }, "policy lint warning");
      if (next.missing) ctx.log.warn({ dir: displayPath(next.dir) }, "policy folder not found; running with an empty policy");
      ctx.log.info({ why, previous, ...summary(next.set) }, "policy reloaded");
    } catch (err) {
      const problems = err instanceof PolicyError ? err.problems : [(err as Error).message];
      ctx.log.error({ why, version: previous, err: problems[0], problems: problems.slice(0, 20) }, "policy reload refused; the previous policy stays in force");
    }
    rewatch(ctx);
  };

  const rewatch = (ctx: GatewayContext) => {
    const dir = resolvePath(ctx.config, ctx.config.policy.dir);
    if (!ctx.config.policy.watch) {
      watcher?.close();
      watcher = watchedDir = undefined;
      return;
    }
    if (watcher && watchedDir === dir) return;
    watcher?.close();
    watchedDir = dir;
    watcher = watchFolder(dir, ctx.config.policy.watch_debounce_ms, () => ctxRef && reload(ctxRef, "file change"));
  };

  const mod: GatewayModule & { pipeline?: CompliancePipeline } = {
    name: "compliance",
    async start(ctx) {
      ctxRef = ctx;
      pluginPaths = ctx.config.policy.plugins.join("\n");
      plugins = await loadStagePlugins(pluginFiles(ctx.config), { log: ctx.log.child({ module: "compliance-plugin" }) });
      const { dir, set, missing } = load(ctx);
      directory.setLayer(POLICY_LAYER, set.groups.definitions);
      for (const w of set.warnings) ctx.log.warn({ warning: w }, "policy lint warning");
      mod.pipeline = new CompliancePipeline(set, {
        log: ctx.log,
        limits: new LimitState(ctx.config.policy.limit_keys),
        groupsOf: (a) => directory.groupsOf(a),
        observe: decisionMetrics(ctx.metrics),
      });
      for (const p of plugins) mod.pipeline.registerStage(p);
      ctx.router.useCompliance(mod.pipeline);
      if (missing) ctx.log.warn({ dir: displayPath(dir) }, "policy folder not found; running with an empty policy");
      ctx.log.info({ dir: displayPath(dir), ...summary(set), plugins: plugins.map((p) => p.name) }, "policy loaded");
      rewatch(ctx);
    },
    async reload(ctx) {
      ctxRef = ctx;
      reload(ctx, "SIGHUP");
    },
    async stop() {
      watcher?.close();
      watcher = watchedDir = undefined;
      ctxRef = undefined;
    },
  };
  return mod;
}
