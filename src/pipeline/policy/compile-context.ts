/**
 * What compiling a policy keeps track of across files: the problems found
 * (each at its file and line), ids in use, groups, and the lexicons rules
 * may name. Compiling one rule, wall or limit asks it for members, regexes
 * and lexicon finders, which report their own mistakes.
 */
import { PatternGroups, unionGroups, type GroupSource } from "../groups.js";
import { anyFinder, compileFinder, patternProblem, type Finder } from "../lexicon/lexicon.js";
import { compileMembers, GROUP_PREFIX } from "../patterns.js";
import type { LexiconFile, PolicyFile } from "./schema.js";
import type { Origin, ParsedFile } from "./load.js";

type Path = (string | number)[];
type File = ParsedFile<unknown>;

export type CompiledLexicon = { def: LexiconFile; origin: Origin; finder: Finder };

export class PolicyCompiler {
  readonly problems: string[] = [];
  readonly lexicons = new Map<string, CompiledLexicon>();
  readonly groups: PatternGroups;
  private readonly ids = new Map<string, Origin>();
  private readonly groupSource: GroupSource;
  /** Lexicons already reported as broken: rules naming them get no second, misleading "unknown lexicon". */
  private readonly broken = new Set<string>();

  /** Groups of every policy file; groups defined outside them (core.groups, accounts) count beside. */
  constructor(policies: ParsedFile<PolicyFile>[], problems: string[], outside?: () => GroupSource | undefined) {
    this.problems.push(...problems);
    const defs: Record<string, string[]> = {};
    for (const f of policies) {
      for (const [name, members] of Object.entries(f.data.groups)) {
        if (defs[name]) this.at(f, ["groups", name], `group ${name}`, "group is defined twice");
        defs[name] = members;
      }
    }
    this.groups = new PatternGroups(defs);
    this.groupSource = unionGroups(this.groups, () => outside?.());
  }

  at(f: File, path: Path, owner: string, msg: string): void {
    this.problems.push(`${f.file}:${f.lineAt(path)}: ${owner}: ${msg}`);
  }

  /** Ids are one namespace across rules, walls, limits, lexicons, external servers and profiles. */
  claim(id: string, origin: Origin, noun: string): void {
    const prior = this.ids.get(id);
    if (prior) this.problems.push(`${origin.file}:${origin.line}: ${noun} ${id}: id already used at ${prior.file}:${prior.line}`);
    else this.ids.set(id, origin);
  }

  /** A member test for address patterns and group:NAME; an unknown group is reported. */
  members(f: File, path: Path, owner: string, specs: string[] | undefined): ((jid: string) => boolean) | undefined {
    for (const s of specs ?? []) {
      if (s.startsWith(GROUP_PREFIX) && !this.groupSource.knows(s.slice(GROUP_PREFIX.length))) {
        this.at(f, path, owner, `unknown group "${s.slice(GROUP_PREFIX.length)}" (define it under groups:, in core.groups, or on accounts with users add --group)`);
      }
    }
    return specs ? compileMembers(specs, this.groupSource) : undefined;
  }

  /** Reports each bad or unsafe regex at its own line; true when all can be compiled. */
  patternsOk(f: File, path: Path, owner: string, list: string[] | undefined): boolean {
    let ok = true;
    (list ?? []).forEach((p, j) => {
      const problem = patternProblem(p);
      if (problem) {
        this.at(f, [...path, j], owner, problem);
        ok = false;
      }
    });
    return ok;
  }

  regexes(f: File, path: Path, owner: string, list: string[] | undefined): Finder | undefined {
    return list && this.patternsOk(f, path, owner, list) ? compileFinder({ patterns: list }) : undefined;
  }

  compileLexicons(files: ParsedFile<LexiconFile>[]): void {
    for (const f of files) {
      const origin = { file: f.file, line: f.lineAt(["id"]) };
      this.claim(f.data.id, origin, "lexicon");
      if (!this.patternsOk(f, ["patterns"], `lexicon ${f.data.id}`, f.data.patterns)) {
        this.broken.add(f.data.id);
        continue;
      }
      try {
        this.lexicons.set(f.data.id, { def: f.data, origin, finder: compileFinder(f.data) });
      } catch (err) {
        this.at(f, ["id"], `lexicon ${f.data.id}`, (err as Error).message);
        this.broken.add(f.data.id);
      }
    }
  }

  /** One finder for the enabled lexicons named; an unknown name is reported. */
  lexiconFinder(f: File, path: Path, owner: string, names: string[] | undefined): Finder | undefined {
    if (!names) return undefined;
    const found: Finder[] = [];
    for (const n of names) {
      const lex = this.lexicons.get(n);
      if (lex) {
        if (lex.def.enabled) found.push(lex.finder);
      } else if (!this.broken.has(n)) this.at(f, path, owner, `unknown lexicon "${n}"`);
    }
    return anyFinder(found);
  }
}
