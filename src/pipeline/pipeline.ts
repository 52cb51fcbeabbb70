/**
 * The compliance pipeline: picks the profile for an envelope, runs its stages
 * in order and turns their verdicts into one Decision. A policy set is swapped
 * in whole (one reference), so an evaluation in flight finishes on the policy
 * it started with and a reload never exposes half a policy.
 */
import { bareOf, type Envelope } from "../model/envelope.js";
import type { Logger } from "../log.js";
import { contentOf, mapContent, withContent, withXhtmlParagraph } from "./content.js";
import type { CompiledProfile, PolicySet } from "./policy/compile.js";
import { EXTERNAL_PREFIX } from "./policy/compile.js";
import type { Stage, Verdict } from "./stage.js";
import { externalStage } from "./stages/external.js";
import { applyExtensions } from "./stages/extensions.js";
import { LimitState, limitsStage } from "./stages/limits.js";
import { rulesStage } from "./stages/rules.js";
import { wallsStage } from "./stages/walls.js";
import type { Compliance, CopyTarget, Decision, DeliveryError, VerdictRecord } from "../model/route.js";

export const BLOCK_TEXT = "This message was blocked by compliance policy.";
export const QUARANTINE_TEXT = "This message is held for compliance review.";

interface Active {
  set: PolicySet;
  stages: Map<string, Stage>;
}

export interface Trace {
  decision: Decision;
  /** The profile that chose the stages, or undefined for the default chain. */
  profile: string | undefined;
  stages: string[];
}

export interface PipelineOptions {
  log: Logger;
  /** Rate-limit windows shared across reloads. */
  limits?: LimitState;
  /** Groups of a bare address for external servers (the group directory); default: the policy files' groups. */
  groupsOf?: (bare: string) => string[];
  /** Told of every decision, for metrics. */
  observe?: (decision: Decision, seconds: number) => void;
}

export class CompliancePipeline implements Compliance {
  private active: Active;
  private readonly plugins = new Map<string, Stage>();
  private readonly limitState: LimitState;

  constructor(set: PolicySet, private readonly opts: PipelineOptions) {
    this.limitState = opts.limits ?? new LimitState();
    this.active = this.build(set);
  }

  get policy(): PolicySet {
    return this.active.set;
  }

  get version(): string {
    return this.active.set.version;
  }

  /** Adds a plug-in stage that profiles can list by its name (load policies naming it with extraStages). */
  registerStage(stage: Stage): void {
    this.plugins.set(stage.name, stage);
    this.active.stages.set(stage.name, stage);
  }

  /** Swaps in a new policy set; evaluations already running keep the old one. */
  use(set: PolicySet): void {
    this.active = this.build(set);
  }

  private build(set: PolicySet): Active {
    const stages = new Map<string, Stage>([
      ["limits", limitsStage(set.limits, this.limitState)],
      ["walls", wallsStage(set.walls)],
      ["rules", rulesStage("rules", set.rules)],
      ["lexicons", rulesStage("lexicons", set.rules)],
      ...this.plugins,
    ]);
    for (const x of set.externals) {
      if (x.def.enabled) stages.set(EXTERNAL_PREFIX + x.def.id, externalStage(x.def, {
          log: this.opts.log,
          policyVersion: set.version,
          groupsOf: this.opts.groupsOf ?? ((a) => set.groups.names().filter((g) => set.groups.isMember(g, a))),
        }));
    }
    return { set, stages };
  }

  /**
   * Whether an enforced, enabled wall covering `kind` stands between two bare
   * addresses (from -> to): for the core, whose presence between hosted users
   * never passes the router.
   */
  walled(from: string, to: string, kind: Envelope["kind"]): boolean {
    const walls = this.active.set.walls;
    if (!walls.length) return false;
    const a = bareOf(from);
    const b = bareOf(to);
    return walls.some((w) => w.def.enabled && !w.def.shadow && (!w.def.kinds || w.def.kinds.includes(kind)) && w.crosses(a, b));
  }

  profileFor(envelope: Envelope, set: PolicySet = this.active.set): CompiledProfile | undefined {
    return set.profiles.find((p) => p.matches(envelope));
  }

  async evaluate(envelope: Envelope): Promise<Decision> {
    return (await this.trace(envelope)).decision;
  }

  /** Evaluates as of `now` and says which profile and stages ran (for `demarc policy test`). */
  async trace(envelope: Envelope, now = Date.now()): Promise<Trace> {
    const started = performance.now();
    const { set, stages } = this.active;
    const profile = this.profileFor(envelope, set);
    const chain = profile ? profile.def.stages : set.defaultStages;
    const verdicts: VerdictRecord[] = [];
    const copies: CopyTarget[] = [];
    const disclaimers: Extract<Verdict, { action: "disclaimer" }>[] = [];
    const ext = applyExtensions(set.extensions, envelope);
    let current = ext.envelope;
    let stop: { error: DeliveryError; quarantined: boolean } | undefined = ext.error && { error: ext.error, quarantined: false };
    if (ext.verdict) verdicts.push(ext.verdict);
    for (const name of stop ? [] : chain) {
      const stage = stages.get(name);
      if (!stage) continue;
      let out: Verdict[];
      try {
        out = await stage.evaluate({ envelope: current, now });
      } catch (err) {
        // A stage that throws is a bug; fail closed rather than let the message through unchecked.
        this.opts.log.error({ id: envelope.id, stage: name, err: (err as Error).message }, "compliance stage failed; blocking");
        verdicts.push({ stage: name, action: "block", reason: "stage failed" });
        stop = { error: { condition: "internal-server-error", type: "wait" }, quarantined: false };
        break;
      }
      for (const v of out) {
        verdicts.push(record(name, v));
        if (v.shadow) continue;
        if (v.action === "block") {
          stop = { error: { condition: "policy-violation", type: "modify", text: v.reason ?? BLOCK_TEXT, ...v.error }, quarantined: false };
        } else if (v.action === "quarantine") {
          stop = { error: { condition: "policy-violation", type: "cancel", text: QUARANTINE_TEXT }, quarantined: true };
        } else if (v.action === "redact") {
          const parts = v.parts;
          if (parts) current = mapContent(current, (_text, p) => parts[p.path]);
          else if (v.body !== undefined) current = withContent(current, v.body);
        } else if (v.action === "tag") {
          current = { ...current, tags: [...new Set([...(current.tags ?? []), ...v.tags])] };
        } else if (v.action === "disclaimer") {
          disclaimers.push(v);
        } else if (v.action === "copy") {
          copies.push({ to: v.to, ruleId: v.ruleId });
        }
        if (stop) break;
      }
      if (stop) break;
    }
    if (!stop) current = applyDisclaimers(current, disclaimers);
    const decision: Decision = {
      deliver: !stop,
      envelope: current,
      policyVersion: set.version,
      verdicts,
      ...(stop ? { error: stop.error } : {}),
      ...(stop?.quarantined ? { quarantined: true } : {}),
      ...(copies.length ? { copies } : {}),
    };
    this.opts.observe?.(decision, (performance.now() - started) / 1000);
    return { decision, profile: profile?.def.id, stages: chain };
  }
}

function record(stage: string, v: Verdict): VerdictRecord {
  const r: VerdictRecord = { stage, ruleId: v.ruleId, action: v.action };
  if (v.reason) r.reason = v.reason;
  if (v.shadow) r.shadow = true;
  if (v.action === "redact") r.detail = `${v.count} redacted`;
  else if (v.action === "tag") r.detail = v.tags.join(",");
  else if (v.action === "copy") r.detail = `copy to ${v.to}`;
  else if (v.action === "disclaimer") r.detail = v.position;
  return r;
}

/** Each disclaimer once, on messages that have a body (and in their XHTML form too); never on presence. */
function applyDisclaimers(env: Envelope, list: Extract<Verdict, { action: "disclaimer" }>[]): Envelope {
  const text = contentOf(env);
  if (!list.length || env.kind === "presence" || text === undefined) return env;
  let body = text;
  let xhtml = env.xhtml;
  for (const d of new Map(list.map((d) => [d.text, d])).values()) {
    body = d.position === "prepend" ? `${d.text}\n\n${body}` : `${body}\n\n${d.text}`;
    if (xhtml) xhtml = withXhtmlParagraph(xhtml, d.text, d.position);
  }
  return { ...withContent(env, body), ...(xhtml ? { xhtml } : {}) };
}
