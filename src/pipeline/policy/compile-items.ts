/**
 * Compiling one rule, wall, limit or profile of a policy file into the tests
 * the stages run. Mistakes go to the compiler's problem list at their line.
 */
import { lowerCased, type Envelope, type EnvelopeKind, type Direction } from "../../model/envelope.js";
import { anyFinder, compileFinder, type Finder } from "../lexicon/lexicon.js";
import { compileDomainPattern, compileTimeWindow } from "../patterns.js";
import type { LimitDef, PolicyFile, ProfileDef, RuleDef, WallDef } from "./schema.js";
import type { ParsedFile } from "./load.js";
import type { CompiledLimit, CompiledProfile, CompiledRule, CompiledWall, Located } from "./compile.js";
import type { CompiledLexicon, PolicyCompiler } from "./compile-context.js";
import { hoursProblem, zoneProblem } from "./lint.js";

type File = ParsedFile<PolicyFile>;
type Condition = (e: Envelope, now: number) => boolean;

function oneOf<T>(allowed: T[], get: (e: Envelope) => T): (e: Envelope, now?: number) => boolean {
  const set = new Set(allowed);
  return (e) => set.has(get(e));
}

function partnerIn(patterns: string[]): (e: Envelope, now?: number) => boolean {
  const ms = patterns.map(compileDomainPattern);
  return (e) => {
    if (e.partnerDomain === undefined) return false;
    const d = lowerCased(e.partnerDomain);
    for (let i = 0; i < ms.length; i++) if (ms[i]!(d)) return true;
    return false;
  };
}

/** All conditions hold (none: always). Per message, so a plain loop: no closure per call. */
function allOf(conds: Condition[]): Condition {
  if (conds.length === 0) return () => true;
  if (conds.length === 1) return conds[0]!;
  return (e, now) => {
    for (let i = 0; i < conds.length; i++) if (!conds[i]!(e, now)) return false;
    return true;
  };
}

function allOfEnvelope(conds: ((e: Envelope) => boolean)[]): (e: Envelope) => boolean {
  const all = allOf(conds);
  return (e) => all(e, 0);
}

/** The content a rule tests and what a redact action replaces. */
function ruleContent(c: PolicyCompiler, f: File, r: RuleDef, i: number): { content: Finder | undefined; redacts: Finder | undefined } {
  const owner = `rule ${r.id}`;
  const w = r.when;
  const contentParts = [
    c.regexes(f, ["rules", i, "when", "body"], owner, w.body),
    w.words ? compileFinder({ words: w.words }) : undefined,
    c.lexiconFinder(f, ["rules", i, "when", "lexicons"], owner, w.lexicons),
  ].filter((x): x is Finder => x !== undefined);
  const content = contentParts.length ? anyFinder(contentParts) : undefined;
  if (r.then.action !== "redact") return { content, redacts: undefined };
  const extra = [
    c.regexes(f, ["rules", i, "then", "patterns"], owner, r.then.patterns),
    c.lexiconFinder(f, ["rules", i, "then", "lexicons"], owner, r.then.lexicons),
  ].filter((x): x is Finder => x !== undefined);
  const written = w.body || w.words || w.lexicons || r.then.patterns || r.then.lexicons;
  if (!written) c.at(f, ["rules", i, "then"], owner, "redact needs something to redact: body, words or lexicons under when, or patterns or lexicons under then");
  return { content, redacts: anyFinder([...contentParts, ...extra]) };
}

/** The envelope conditions of a rule's when: (content aside). */
function ruleConditions(c: PolicyCompiler, f: File, r: RuleDef, i: number): Condition[] {
  const owner = `rule ${r.id}`;
  const w = r.when;
  // lint.ts reports bad zones and hours; this only keeps them from being compiled.
  const timeOk = !w.time || ((!w.time.zone || !zoneProblem(w.time.zone)) && (!w.time.hours || !hoursProblem(w.time.hours)));
  const conditions: Condition[] = [];
  if (w.direction) conditions.push(oneOf<Direction>(w.direction, (e) => e.direction));
  if (w.kind) conditions.push(oneOf<EnvelopeKind>(w.kind, (e) => e.kind));
  if (w.partners) conditions.push(partnerIn(w.partners));
  const from = c.members(f, ["rules", i, "when", "from"], owner, w.from);
  const to = c.members(f, ["rules", i, "when", "to"], owner, w.to);
  const users = c.members(f, ["rules", i, "when", "users"], owner, w.users);
  if (from) conditions.push((e) => from(e.from));
  if (to) conditions.push((e) => to(e.to));
  if (users) conditions.push((e) => users(e.from) || users(e.to));
  if (w.time && timeOk) {
    const inWindow = compileTimeWindow(w.time);
    conditions.push((_e, now) => inWindow(now));
  }
  return conditions;
}

/** A rule as written, and compiled when it is enabled (a disabled rule is still checked). */
export function compileRule(c: PolicyCompiler, f: File, r: RuleDef, i: number): { written: Located<RuleDef>; rule?: CompiledRule } {
  const origin = { file: f.file, line: f.lineAt(["rules", i, "id"]) };
  c.claim(r.id, origin, "rule");
  const { content, redacts } = ruleContent(c, f, r, i);
  const conditions = ruleConditions(c, f, r, i);
  const written = { def: r, origin };
  if (!r.enabled) return { written };
  const rule: CompiledRule = {
    id: r.id, def: r, origin, stage: "rules", shadow: r.shadow, then: r.then, content, redacts,
    applies: allOf(conditions),
  };
  return { written, rule };
}

export function compileWall(c: PolicyCompiler, f: File, wall: WallDef, i: number): CompiledWall {
  const owner = `wall ${wall.id}`;
  const origin = { file: f.file, line: f.lineAt(["walls", i, "id"]) };
  c.claim(wall.id, origin, "wall");
  const a = c.members(f, ["walls", i, "from"], owner, wall.from)!;
  const b = c.members(f, ["walls", i, "to"], owner, wall.to)!;
  return { def: wall, origin, crosses: (from, to) => (a(from) && b(to)) || (wall.both_ways && b(from) && a(to)) };
}

export function compileLimit(c: PolicyCompiler, f: File, l: LimitDef, i: number): CompiledLimit {
  const origin = { file: f.file, line: f.lineAt(["limits", i, "id"]) };
  c.claim(l.id, origin, "limit");
  const users = c.members(f, ["limits", i, "users"], `limit ${l.id}`, l.users);
  const conds: ((e: Envelope) => boolean)[] = [];
  if (l.direction) conds.push(oneOf<Direction>(l.direction, (e) => e.direction));
  if (l.kinds) conds.push(oneOf<EnvelopeKind>(l.kinds, (e) => e.kind));
  if (l.partners || l.per === "partner") conds.push(partnerIn(l.partners ?? ["*"]));
  if (users) conds.push((e) => users(e.from));
  return { def: l, origin, applies: allOfEnvelope(conds) };
}

export function compileProfile(c: PolicyCompiler, f: File, p: ProfileDef, i: number, order: number): CompiledProfile {
  const origin = { file: f.file, line: f.lineAt(["profiles", i, "id"]) };
  c.claim(p.id, origin, "profile");
  const conds: ((e: Envelope) => boolean)[] = [];
  if (p.kinds) conds.push(oneOf<EnvelopeKind>(p.kinds, (e) => e.kind));
  if (p.direction) conds.push(oneOf<Direction>(p.direction, (e) => e.direction));
  if (p.partners) conds.push(partnerIn(p.partners));
  return { def: p, origin, order, matches: allOfEnvelope(conds) };
}

/** A lexicon's own on_match, as a rule of the lexicons stage. */
export function lexiconRule(id: string, lex: CompiledLexicon): CompiledRule | undefined {
  const m = lex.def.on_match;
  if (!m || !lex.def.enabled) return undefined;
  return {
    id, def: lex.def, origin: lex.origin, stage: "lexicons", shadow: m.shadow, then: m,
    content: lex.finder, redacts: m.action === "redact" ? lex.finder : undefined, applies: () => true,
  };
}
