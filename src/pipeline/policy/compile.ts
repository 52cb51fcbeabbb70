/**
 * Turns parsed policy files into a PolicySet: every pattern, regex, group
 * reference and lexicon reference compiled and checked once, so a message
 * only runs tests, and a mistake is found by `demarc policy lint` rather than
 * by the first message that reaches it.
 */
import type { Envelope } from "../../model/envelope.js";
import type { PatternGroups, GroupSource } from "../groups.js";
import type { Finder } from "../lexicon/lexicon.js";
import type { ExternalDef, LexiconFile, LimitDef, ProfileDef, RuleDef, ThenDef, WallDef } from "./schema.js";
import { PolicyError, type Origin, type ParsedPolicy } from "./load.js";
import { compileExtensions, type ExtensionsPolicy } from "./extensions.js";
import { lintPolicy, type FederationFacts } from "./lint.js";
import { PolicyCompiler } from "./compile-context.js";
import { compileLimit, compileProfile, compileRule, compileWall, lexiconRule } from "./compile-items.js";

export interface Located<T> {
  def: T;
  origin: Origin;
}

export interface CompiledRule extends Located<RuleDef | LexiconFile> {
  id: string;
  /** "rules" for rule blocks, "lexicons" for a lexicon's own on_match. */
  stage: "rules" | "lexicons";
  shadow: boolean;
  then: ThenDef;
  /** Whether the envelope meets every condition (content is tested separately). */
  applies(env: Envelope, now: number): boolean;
  /** The content condition; undefined when the rule has none. */
  content: Finder | undefined;
  /** What a redact action replaces (content condition plus then.patterns/lexicons). */
  redacts: Finder | undefined;
}

export interface CompiledWall extends Located<WallDef> {
  /** Whether traffic from -> to crosses this wall. */
  crosses(from: string, to: string): boolean;
}

export interface CompiledLimit extends Located<LimitDef> {
  applies(env: Envelope): boolean;
}

export interface CompiledProfile extends Located<ProfileDef> {
  order: number;
  matches(env: Envelope): boolean;
}

export interface PolicySet {
  version: string;
  dir: string;
  files: string[];
  groups: PatternGroups;
  lexicons: Map<string, Located<LexiconFile> & { finder: Finder }>;
  /** Enabled rules and lexicon on_match rules, in evaluation order. */
  rules: CompiledRule[];
  /** Every rule block as written, disabled ones included (for explain). */
  ruleDefs: Located<RuleDef>[];
  /** Walls and limits, disabled ones included; stages skip those. */
  walls: CompiledWall[];
  limits: CompiledLimit[];
  externals: Located<ExternalDef>[];
  profiles: CompiledProfile[];
  /** The chain used when no profile matches. */
  defaultStages: string[];
  /** What happens to elements the edge does not model, per direction and partner. */
  extensions: ExtensionsPolicy;
  /** Lint warnings: the policy loads, but these deserve a look ("FILE:LINE: owner: warning: ..."). */
  warnings: string[];
}

export const BUILTIN_STAGES = ["limits", "walls", "rules", "lexicons"] as const;
export const EXTERNAL_PREFIX = "external:";

export interface CompileOptions {
  /** Groups defined outside policy files (the group directory without its policy layer); members count beside policy groups. */
  groups?: () => GroupSource | undefined;
  /** Names of plug-in stages profiles may list. */
  extraStages?: string[];
  /** The config's federation settings, so lint can tell rules that can never fire. */
  federation?: FederationFacts | undefined;
}

export function compilePolicy(parsed: ParsedPolicy, opts: CompileOptions = {}): PolicySet {
  const findings = lintPolicy(parsed, opts.federation);
  const errors = findings.filter((x) => x.severity === "error").map((x) => x.text);
  const warnings = findings.filter((x) => x.severity === "warning").map((x) => x.text);
  const c = new PolicyCompiler(parsed.policies, errors, opts.groups);
  c.compileLexicons(parsed.lexicons);

  const rules: CompiledRule[] = [];
  const ruleDefs: Located<RuleDef>[] = [];
  const walls: CompiledWall[] = [];
  const limits: CompiledLimit[] = [];
  const externals: Located<ExternalDef>[] = [];
  const profiles: CompiledProfile[] = [];
  for (const f of parsed.policies) {
    f.data.rules.forEach((r, i) => {
      const { written, rule } = compileRule(c, f, r, i);
      ruleDefs.push(written);
      if (rule) rules.push(rule);
    });
    f.data.walls.forEach((w, i) => walls.push(compileWall(c, f, w, i)));
    f.data.limits.forEach((l, i) => limits.push(compileLimit(c, f, l, i)));
    f.data.external.forEach((x, i) => {
      const origin = { file: f.file, line: f.lineAt(["external", i, "id"]) };
      c.claim(x.id, origin, "external server");
      externals.push({ def: x, origin });
    });
    f.data.profiles.forEach((p, i) => profiles.push(compileProfile(c, f, p, i, profiles.length)));
  }
  for (const [id, lex] of c.lexicons) {
    const rule = lexiconRule(id, lex);
    if (rule) rules.push(rule);
  }
  checkProfileStages(c.problems, profiles, [...BUILTIN_STAGES, ...(opts.extraStages ?? []), ...externals.map((x) => EXTERNAL_PREFIX + x.def.id)]);
  const extensions = compileExtensions(parsed.policies, c.problems);
  if (c.problems.length) throw new PolicyError(c.problems);
  profiles.sort((x, y) => y.def.priority - x.def.priority || x.order - y.order);
  return {
    version: parsed.version, dir: parsed.dir, files: parsed.files, groups: c.groups, lexicons: c.lexicons, rules, ruleDefs, walls, limits, externals, profiles, extensions,
    defaultStages: [...BUILTIN_STAGES, ...externals.filter((x) => x.def.enabled).map((x) => EXTERNAL_PREFIX + x.def.id)],
    warnings,
  };
}

/** Every stage a profile lists must exist: built in, a plug-in, or an external server. */
function checkProfileStages(problems: string[], profiles: CompiledProfile[], stages: string[]): void {
  const known = new Set(stages);
  for (const p of profiles) {
    p.def.stages.forEach((s, j) => {
      if (!known.has(s)) problems.push(`${p.origin.file}:${p.origin.line}: profile ${p.def.id}: stages.${j}: unknown stage "${s}" (known: ${[...known].join(", ")})`);
    });
  }
}
