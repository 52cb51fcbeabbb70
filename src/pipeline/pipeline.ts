/**
 * The compliance pipeline: picks the profile for an envelope, runs its stages
 * in order and turns their verdicts into one Decision. A policy set is swapped
 * in whole (one reference), so an evaluation in flight finishes on the policy
 * it started with and a reload never exposes half a policy.
 */
import { bareOf, type Envelope } from "../model/envelope.js";
import { isThenable } from "../model/thenable.js";
import type { Logger } from "../log.js";
import { contentOf, mapContent, withContent, withXhtmlParagraph } from "./content.js";
import { MatchableParts } from "./parts.js";
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

type Disclaimer = Extract<Verdict, { action: "disclaimer" }>;

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
    for (const p of set.profiles) if (p.matches(envelope)) return p;
    return undefined;
  }

  async evaluate(envelope: Envelope): Promise<Decision> {
    return this.decide(envelope);
  }

  /** evaluate, answered at once unless a stage had to wait (an external server, an asynchronous plug-in). */
  decide(envelope: Envelope): Decision | Promise<Decision> {
    const active = this.active;
    const run = new Run(envelope, Date.now(), active.set);
    const out = this.runChain(run, active, this.chainFor(envelope, active.set));
    return out === undefined ? this.decided(run) : out.then(() => this.decided(run));
  }

  /** Evaluates as of `now` and says which profile and stages ran (for `demarc policy test`). */
  async trace(envelope: Envelope, now = Date.now()): Promise<Trace> {
    const active = this.active;
    const profile = this.profileFor(envelope, active.set);
    const chain = profile ? profile.def.stages : active.set.defaultStages;
    const run = new Run(envelope, now, active.set);
    await this.runChain(run, active, chain);
    return { decision: this.decided(run), profile: profile?.def.id, stages: chain };
  }

  private chainFor(envelope: Envelope, set: PolicySet): string[] {
    const profile = this.profileFor(envelope, set);
    return profile ? profile.def.stages : set.defaultStages;
  }

  /**
   * Runs the stages from `from` on. A stage that answers at once is applied
   * at once: only a stage that returns a promise (an external server, a
   * plug-in) costs a turn of the event loop, and the rest of the chain then
   * continues after it.
   */
  private runChain(run: Run, active: Active, chain: readonly string[], from = 0): Promise<void> | undefined {
    if (run.stop) return undefined;
    for (let i = from; i < chain.length; i++) {
      const name = chain[i]!;
      const stage = active.stages.get(name);
      if (!stage) continue;
      let out: Verdict[] | Promise<Verdict[]>;
      try {
        out = stage.evaluate({ envelope: run.current, now: run.now, parts: run.parts() });
      } catch (err) {
        this.failed(run, name, err);
        return undefined;
      }
      if (isThenable(out)) {
        return out.then(
          (verdicts) => (run.apply(name, verdicts) ? undefined : this.runChain(run, active, chain, i + 1)),
          (err: unknown) => this.failed(run, name, err),
        );
      }
      if (run.apply(name, out)) return undefined;
    }
    return undefined;
  }

  /** A stage that throws is a bug; fail closed rather than let the message through unchecked. */
  private failed(run: Run, name: string, err: unknown): void {
    this.opts.log.error({ id: run.original.id, stage: name, err: (err as Error).message }, "compliance stage failed; blocking");
    run.verdicts.push({ stage: name, action: "block", reason: "stage failed" });
    run.stop = { error: { condition: "internal-server-error", type: "wait" }, quarantined: false };
  }

  private decided(run: Run): Decision {
    const decision = run.decision();
    this.opts.observe?.(decision, (performance.now() - run.started) / 1000);
    return decision;
  }
}

/** One evaluation's state: the envelope as the stages have left it so far, and what they said. */
class Run {
  readonly started = performance.now();
  readonly verdicts: VerdictRecord[] = [];
  current: Envelope;
  private shared: MatchableParts | undefined;
  stop: { error: DeliveryError; quarantined: boolean } | undefined;
  private copies: CopyTarget[] | undefined;
  private disclaimers: Disclaimer[] | undefined;

  private readonly policyVersion: string;

  constructor(
    readonly original: Envelope,
    readonly now: number,
    set: PolicySet,
  ) {
    this.policyVersion = set.version;
    this.current = original;
    // Extensions are settled before any stage, whatever the profile (stages/extensions.ts).
    if (!original.extensions?.length) return;
    const ext = applyExtensions(set.extensions, original);
    this.current = ext.envelope;
    if (ext.verdict) this.verdicts.push(ext.verdict);
    if (ext.error) this.stop = { error: ext.error, quarantined: false };
  }

  /** The current envelope's parts for the stages, shared until a stage changes the envelope. */
  parts(): MatchableParts {
    if (this.shared?.envelope !== this.current) this.shared = new MatchableParts(this.current);
    return this.shared;
  }

  /** Applies one stage's verdicts in order; true when the message will not be delivered (the chain stops). */
  apply(stage: string, out: Verdict[]): boolean {
    for (const v of out) {
      this.verdicts.push(record(stage, v));
      if (v.shadow) continue;
      if (v.action === "block") {
        this.stop = { error: { condition: "policy-violation", type: "modify", text: v.reason ?? BLOCK_TEXT, ...v.error }, quarantined: false };
        return true;
      } else if (v.action === "quarantine") {
        this.stop = { error: { condition: "policy-violation", type: "cancel", text: QUARANTINE_TEXT }, quarantined: true };
        return true;
      } else if (v.action === "redact") {
        const parts = v.parts;
        if (parts) this.current = mapContent(this.current, (_text, p) => parts[p.path]);
        else if (v.body !== undefined) this.current = withContent(this.current, v.body);
      } else if (v.action === "tag") {
        this.current = { ...this.current, tags: [...new Set([...(this.current.tags ?? []), ...v.tags])] };
      } else if (v.action === "disclaimer") {
        (this.disclaimers ??= []).push(v);
      } else if (v.action === "copy") {
        (this.copies ??= []).push({ to: v.to, ruleId: v.ruleId });
      }
    }
    return false;
  }

  decision(): Decision {
    const stop = this.stop;
    const envelope = stop || !this.disclaimers ? this.current : applyDisclaimers(this.current, this.disclaimers);
    const d: Decision = { deliver: !stop, envelope, policyVersion: this.policyVersion, verdicts: this.verdicts };
    if (stop) d.error = stop.error;
    if (stop?.quarantined) d.quarantined = true;
    if (this.copies) d.copies = this.copies;
    return d;
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
function applyDisclaimers(env: Envelope, list: Disclaimer[]): Envelope {
  const text = contentOf(env);
  if (!list.length || env.kind === "presence" || text === undefined) return env;
  let body = text;
  let xhtml = env.xhtml;
  const unique = list.length === 1 ? list : new Map(list.map((d) => [d.text, d])).values();
  for (const d of unique) {
    body = d.position === "prepend" ? `${d.text}\n\n${body}` : `${body}\n\n${d.text}`;
    if (xhtml) xhtml = withXhtmlParagraph(xhtml, d.text, d.position);
  }
  return { ...withContent(env, body), ...(xhtml ? { xhtml } : {}) };
}
