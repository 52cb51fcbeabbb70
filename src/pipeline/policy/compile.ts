/**
 * Turns parsed policy files into a PolicySet: every pattern, regex, group
 * reference and lexicon reference compiled and checked once, so a message
 * only runs tests, and a mistake is found by `demarc policy lint` rather than
 * by the first message that reaches it.
 */
import type { Envelope, EnvelopeKind, Direction } from "../../model/envelope.js";
import { PatternGroups, unionGroups, type GroupSource } from "../groups.js";
import { anyFinder, compileFinder, patternProblem, type Finder } from "../lexicon/lexicon.js";
import { compileDomainPattern, compileMembers, compileTimeWindow, GROUP_PREFIX } from "../patterns.js";
import type { ExternalDef, LexiconFile, LimitDef, ProfileDef, RuleDef, ThenDef, WallDef } from "./schema.js";
import { PolicyError, type Origin, type ParsedFile, type ParsedPolicy } from "./load.js";
import { compileExtensions, type ExtensionsPolicy } from "./extensions.js";
import { hoursProblem, lintPolicy, zoneProblem, type FederationFacts } from "./lint.js";

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
  const problems: string[] = [];
  const at = (f: ParsedFile<unknown>, path: (string | number)[], owner: string, msg: string) =>
    problems.push(`${f.file}:${f.lineAt(path)}: ${owner}: ${msg}`);

  const findings = lintPolicy(parsed, opts.federation);
  for (const x of findings) if (x.severity === "error") problems.push(x.text);
  const warnings = findings.filter((x) => x.severity === "warning").map((x) => x.text);

  const ids = new Map<string, Origin>();
  const claim = (id: string, origin: Origin, noun: string) => {
    const prior = ids.get(id);
    if (prior) problems.push(`${origin.file}:${origin.line}: ${noun} ${id}: id already used at ${prior.file}:${prior.line}`);
    else ids.set(id, origin);
  };

  const groupDefs: Record<string, string[]> = {};
  for (const f of parsed.policies) {
    for (const [name, members] of Object.entries(f.data.groups)) {
      if (groupDefs[name]) at(f, ["groups", name], `group ${name}`, "group is defined twice");
      groupDefs[name] = members;
    }
  }
  const groups = new PatternGroups(groupDefs);
  const groupSource = unionGroups(() => [groups, opts.groups?.()]);
  const checkMembers = (f: ParsedFile<unknown>, path: (string | number)[], owner: string, specs: string[] | undefined) => {
    for (const s of specs ?? []) {
      if (s.startsWith(GROUP_PREFIX) && !groupSource.knows(s.slice(GROUP_PREFIX.length))) {
        at(f, path, owner, `unknown group "${s.slice(GROUP_PREFIX.length)}" (define it under groups:, in core.groups, or on accounts with users add --group)`);
      }
    }
    return specs ? compileMembers(specs, groupSource) : undefined;
  };
  /** Reports each bad or unsafe regex at its own line; true when all can be compiled. */
  const patternsOk = (f: ParsedFile<unknown>, path: (string | number)[], owner: string, list: string[] | undefined) => {
    let ok = true;
    (list ?? []).forEach((p, j) => {
      const problem = patternProblem(p);
      if (problem) {
        at(f, [...path, j], owner, problem);
        ok = false;
      }
    });
    return ok;
  };
  const regexes = (f: ParsedFile<unknown>, path: (string | number)[], owner: string, list: string[] | undefined): Finder | undefined =>
    list && patternsOk(f, path, owner, list) ? compileFinder({ patterns: list }) : undefined;

  const lexicons = new Map<string, Located<LexiconFile> & { finder: Finder }>();
  // Lexicons already reported as broken: rules naming them get no second, misleading "unknown lexicon".
  const broken = new Set<string>();
  for (const f of parsed.lexicons) {
    const origin = { file: f.file, line: f.lineAt(["id"]) };
    claim(f.data.id, origin, "lexicon");
    if (!patternsOk(f, ["patterns"], `lexicon ${f.data.id}`, f.data.patterns)) {
      broken.add(f.data.id);
      continue;
    }
    try {
      lexicons.set(f.data.id, { def: f.data, origin, finder: compileFinder(f.data) });
    } catch (err) {
      at(f, ["id"], `lexicon ${f.data.id}`, (err as Error).message);
      broken.add(f.data.id);
    }
  }
  const lexiconFinder = (f: ParsedFile<unknown>, path: (string | number)[], owner: string, names: string[] | undefined) => {
    if (!names) return undefined;
    const found: Finder[] = [];
    for (const n of names) {
      const lex = lexicons.get(n);
      if (lex) {
        if (lex.def.enabled) found.push(lex.finder);
      } else if (!broken.has(n)) at(f, path, owner, `unknown lexicon "${n}"`);
    }
    return anyFinder(found);
  };

  const rules: CompiledRule[] = [];
  const ruleDefs: Located<RuleDef>[] = [];
  const walls: CompiledWall[] = [];
  const limits: CompiledLimit[] = [];
  const externals: Located<ExternalDef>[] = [];
  const profiles: CompiledProfile[] = [];
  for (const f of parsed.policies) {
    f.data.rules.forEach((r, i) => {
      const owner = `rule ${r.id}`;
      const origin = { file: f.file, line: f.lineAt(["rules", i, "id"]) };
      claim(r.id, origin, "rule");
      ruleDefs.push({ def: r, origin });
      const w = r.when;
      const contentParts = [
        regexes(f, ["rules", i, "when", "body"], owner, w.body),
        w.words ? compileFinder({ words: w.words }) : undefined,
        lexiconFinder(f, ["rules", i, "when", "lexicons"], owner, w.lexicons),
      ].filter((x): x is Finder => x !== undefined);
      const content = contentParts.length ? anyFinder(contentParts) : undefined;
      let redacts: Finder | undefined;
      if (r.then.action === "redact") {
        const extra = [
          regexes(f, ["rules", i, "then", "patterns"], owner, r.then.patterns),
          lexiconFinder(f, ["rules", i, "then", "lexicons"], owner, r.then.lexicons),
        ].filter((x): x is Finder => x !== undefined);
        const written = w.body || w.words || w.lexicons || r.then.patterns || r.then.lexicons;
        if (!written) at(f, ["rules", i, "then"], owner, "redact needs something to redact: body, words or lexicons under when, or patterns or lexicons under then");
        redacts = anyFinder([...contentParts, ...extra]);
      }
      // lint.ts reports bad zones and hours; this only keeps them from being compiled.
      const timeOk = !w.time || ((!w.time.zone || !zoneProblem(w.time.zone)) && (!w.time.hours || !hoursProblem(w.time.hours)));
      const conditions: ((e: Envelope, now: number) => boolean)[] = [];
      if (w.direction) conditions.push(oneOf<Direction>(w.direction, (e) => e.direction));
      if (w.kind) conditions.push(oneOf<EnvelopeKind>(w.kind, (e) => e.kind));
      if (w.partners) conditions.push(partnerIn(w.partners));
      const from = checkMembers(f, ["rules", i, "when", "from"], owner, w.from);
      const to = checkMembers(f, ["rules", i, "when", "to"], owner, w.to);
      const users = checkMembers(f, ["rules", i, "when", "users"], owner, w.users);
      if (from) conditions.push((e) => from(e.from));
      if (to) conditions.push((e) => to(e.to));
      if (users) conditions.push((e) => users(e.from) || users(e.to));
      if (w.time && timeOk) {
        const inWindow = compileTimeWindow(w.time);
        conditions.push((_e, now) => inWindow(now));
      }
      if (!r.enabled) return;
      rules.push({
        id: r.id, def: r, origin, stage: "rules", shadow: r.shadow, then: r.then, content, redacts,
        applies: (e, now) => conditions.every((c) => c(e, now)),
      });
    });
    f.data.walls.forEach((wall, i) => {
      const owner = `wall ${wall.id}`;
      const origin = { file: f.file, line: f.lineAt(["walls", i, "id"]) };
      claim(wall.id, origin, "wall");
      const a = checkMembers(f, ["walls", i, "from"], owner, wall.from)!;
      const b = checkMembers(f, ["walls", i, "to"], owner, wall.to)!;
      walls.push({
        def: wall, origin,
        crosses: (from, to) => (a(from) && b(to)) || (wall.both_ways && b(from) && a(to)),
      });
    });
    f.data.limits.forEach((l, i) => {
      const owner = `limit ${l.id}`;
      const origin = { file: f.file, line: f.lineAt(["limits", i, "id"]) };
      claim(l.id, origin, "limit");
      const users = checkMembers(f, ["limits", i, "users"], owner, l.users);
      const conds: ((e: Envelope) => boolean)[] = [];
      if (l.direction) conds.push(oneOf<Direction>(l.direction, (e) => e.direction));
      if (l.kinds) conds.push(oneOf<EnvelopeKind>(l.kinds, (e) => e.kind));
      if (l.partners || l.per === "partner") conds.push(partnerIn(l.partners ?? ["*"]));
      if (users) conds.push((e) => users(e.from));
      limits.push({ def: l, origin, applies: (e) => conds.every((c) => c(e)) });
    });
    f.data.external.forEach((x, i) => {
      const origin = { file: f.file, line: f.lineAt(["external", i, "id"]) };
      claim(x.id, origin, "external server");
      externals.push({ def: x, origin });
    });
    f.data.profiles.forEach((p, i) => {
      const origin = { file: f.file, line: f.lineAt(["profiles", i, "id"]) };
      claim(p.id, origin, "profile");
      const conds: ((e: Envelope) => boolean)[] = [];
      if (p.kinds) conds.push(oneOf<EnvelopeKind>(p.kinds, (e) => e.kind));
      if (p.direction) conds.push(oneOf<Direction>(p.direction, (e) => e.direction));
      if (p.partners) conds.push(partnerIn(p.partners));
      profiles.push({ def: p, origin, order: profiles.length, matches: (e) => conds.every((c) => c(e)) });
    });
  }
  for (const [id, lex] of lexicons) {
    const m = lex.def.on_match;
    if (!m || !lex.def.enabled) continue;
    const finder = lex.finder;
    rules.push({
      id, def: lex.def, origin: lex.origin, stage: "lexicons", shadow: m.shadow, then: m,
      content: finder, redacts: m.action === "redact" ? finder : undefined, applies: () => true,
    });
  }

  const known = new Set<string>([...BUILTIN_STAGES, ...(opts.extraStages ?? []), ...externals.map((x) => EXTERNAL_PREFIX + x.def.id)]);
  for (const p of profiles) {
    p.def.stages.forEach((s, j) => {
      if (!known.has(s)) problems.push(`${p.origin.file}:${p.origin.line}: profile ${p.def.id}: stages.${j}: unknown stage "${s}" (known: ${[...known].join(", ")})`);
    });
  }
  const extensions = compileExtensions(parsed.policies, problems);
  if (problems.length) throw new PolicyError(problems);
  profiles.sort((x, y) => y.def.priority - x.def.priority || x.order - y.order);
  return {
    version: parsed.version, dir: parsed.dir, files: parsed.files, groups, lexicons, rules, ruleDefs, walls, limits, externals, profiles, extensions,
    defaultStages: [...BUILTIN_STAGES, ...externals.filter((x) => x.def.enabled).map((x) => EXTERNAL_PREFIX + x.def.id)],
    warnings,
  };
}

function oneOf<T>(allowed: T[], get: (e: Envelope) => T): (e: Envelope, now?: number) => boolean {
  const set = new Set(allowed);
  return (e) => set.has(get(e));
}

function partnerIn(patterns: string[]): (e: Envelope, now?: number) => boolean {
  const ms = patterns.map(compileDomainPattern);
  return (e) => e.partnerDomain !== undefined && ms.some((m) => m(e.partnerDomain!.toLowerCase()));
}
