/**
 * Checks that catch what would load but cannot work as written: time windows
 * outside the clock, zones that are not IANA names, partner patterns with a
 * scheme or port (partners are domains), a wall from a group to itself, rules
 * that can never fire (a partner condition on internal traffic, or partners the
 * federation settings refuse), and limits whose words and numbers disagree.
 * Errors stop the load like any other problem; warnings load and are printed
 * by `demarc policy lint`.
 */
import { parseHours } from "../patterns.js";
import { compileDomainPattern } from "../patterns.js";
import type { ParsedFile, ParsedPolicy } from "./load.js";
import type { LimitDef, PolicyFile, WallDef } from "./schema.js";

export interface LintFinding {
  severity: "error" | "warning";
  /** "FILE:LINE: owner: message", the format of every policy problem. */
  text: string;
}

/** What lint knows of the gateway's federation settings, when a config is at hand. */
export interface FederationFacts {
  mode: "allow-listed" | "open";
  partners: string[];
  deny: string[];
}

type Report = (f: ParsedFile<unknown>, path: (string | number)[], owner: string, msg: string, severity?: "error" | "warning") => void;

export function lintPolicy(parsed: ParsedPolicy, federation?: FederationFacts): LintFinding[] {
  const out: LintFinding[] = [];
  for (const f of parsed.policies) {
    const mine: (LintFinding & { line: number })[] = [];
    const report: Report = (file, path, owner, msg, severity = "error") => {
      const line = file.lineAt(path);
      mine.push({ severity, line, text: `${file.file}:${line}: ${owner}: ${severity === "warning" ? "warning: " : ""}${msg}` });
    };
    lintFile(f, report, federation);
    // In the order of the file, as an officer reads it.
    out.push(...mine.sort((a, b) => a.line - b.line).map(({ severity, text }) => ({ severity, text })));
  }
  return out;
}

function lintFile(f: ParsedFile<PolicyFile>, report: Report, federation: FederationFacts | undefined): void {
  f.data.rules.forEach((r, i) => {
    const owner = `rule ${r.id}`;
    const t = r.when.time;
    if (t?.hours !== undefined) {
      const problem = hoursProblem(t.hours);
      if (problem) report(f, ["rules", i, "when", "time", "hours"], owner, problem);
    }
    if (t?.zone !== undefined) {
      const problem = zoneProblem(t.zone);
      if (problem) report(f, ["rules", i, "when", "time", "zone"], owner, problem);
    }
    partnersCheck(f, ["rules", i, "when", "partners"], owner, r.when.partners, report);
    neverFires(f, ["rules", i, "when"], owner, r.when.direction, r.when.partners, report, federation);
  });
  f.data.walls.forEach((w, i) => selfWall(f, ["walls", i], `wall ${w.id}`, w, report));
  f.data.limits.forEach((l, i) => {
    const owner = `limit ${l.id}`;
    partnersCheck(f, ["limits", i, "partners"], owner, l.partners, report);
    neverFires(f, ["limits", i], owner, l.direction, l.partners ?? (l.per === "partner" ? ["*"] : undefined), report, federation);
    limitWords(f, ["limits", i], owner, l, report);
  });
  f.data.profiles.forEach((p, i) => partnersCheck(f, ["profiles", i, "partners"], `profile ${p.id}`, p.partners, report));
}

/** HH:MM-HH:MM with hours 00-24 and minutes 00-59; 24:00 only as the end; not empty. */
export function hoursProblem(hours: string): string | undefined {
  const m = /^(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})$/.exec(hours.trim());
  if (!m) return `hours "${hours}" must be "HH:MM-HH:MM"`;
  const [h1, m1, h2, m2] = [m[1], m[2], m[3], m[4]].map(Number) as [number, number, number, number];
  const bad = (h: number, min: number) => h > 24 || min > 59 || (h === 24 && min !== 0);
  if (bad(h1, m1) || bad(h2, m2)) return `hours "${hours}": times run from 00:00 to 24:00 (minutes 00-59)`;
  if (h1 === 24) return `hours "${hours}": a window cannot start at 24:00; use 00:00`;
  if (h1 * 60 + m1 === h2 * 60 + m2) return `hours "${hours}": the window is empty (start equals end)`;
  if (!parseHours(hours)) return `hours "${hours}" cannot be read`;
  return undefined;
}

/** An IANA time zone name (Region/City, or UTC and the other tzdb names the runtime knows). */
export function zoneProblem(zone: string): string | undefined {
  const shaped = /^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+)*$/.test(zone);
  let known = false;
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: zone });
    known = true;
  } catch {
    known = false;
  }
  return shaped && known ? undefined : `unknown time zone "${zone}" (an IANA name such as Europe/London, America/New_York or UTC)`;
}

/** Partners are domain patterns: letters, digits, "-", "." and "*"; no scheme, port, path or user. */
export function partnerProblem(p: string): string | undefined {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(p) || /^(xmpp|sip|sips):/i.test(p)) return `partner "${p}": no scheme; write the domain alone`;
  if (/:\d*$/.test(p)) return `partner "${p}": no port; partners are domains (ports belong in the config's partners and s2s settings)`;
  if (p.includes("@")) return `partner "${p}": partners are domains, not addresses (use from/to/users for people)`;
  if (p.includes("/")) return `partner "${p}": no path; write the domain alone`;
  if (!/^(\*|(\*\.)?[a-z0-9*]([a-z0-9*-]*[a-z0-9*])?(\.[a-z0-9*]([a-z0-9*-]*[a-z0-9*])?)*)$/i.test(p.trim())) {
    return `partner "${p}" is not a domain pattern (letters, digits, "-", "." and "*")`;
  }
  return undefined;
}

function partnersCheck(f: ParsedFile<unknown>, path: (string | number)[], owner: string, list: string[] | undefined, report: Report): void {
  (list ?? []).forEach((p, j) => {
    const problem = partnerProblem(p);
    if (problem) report(f, [...path, j], owner, problem);
  });
}

/** A partner condition on internal traffic only, or on partners the federation settings refuse. */
function neverFires(
  f: ParsedFile<unknown>,
  path: (string | number)[],
  owner: string,
  direction: string[] | undefined,
  partners: string[] | undefined,
  report: Report,
  federation: FederationFacts | undefined,
): void {
  if (!partners) return;
  if (direction && direction.every((d) => d === "internal")) {
    report(f, [...path, "partners"], owner, "can never fire: internal traffic has no partner, so a partners condition never holds on it");
    return;
  }
  if (!federation || partners.some((p) => partnerProblem(p))) return;
  const denied = (d: string) => federation.deny.some((x) => d === x || d.endsWith(`.${x}`));
  const matchers = partners.map(compileDomainPattern);
  const reachable = (d: string) => !denied(d) && matchers.some((m) => m(d.toLowerCase()));
  if (federation.mode === "allow-listed" && !partners.includes("*") && !federation.partners.some(reachable)) {
    report(f, [...path, "partners"], owner, `can never fire under federation.mode allow-listed: no configured partner matches ${partners.join(", ")}`, "warning");
  } else if (partners.every((p) => !p.includes("*") && denied(p.toLowerCase()))) {
    report(f, [...path, "partners"], owner, `can never fire: ${partners.join(", ")} ${partners.length === 1 ? "is" : "are"} on federation.deny`, "warning");
  }
}

function selfWall(f: ParsedFile<unknown>, path: (string | number)[], owner: string, w: WallDef, report: Report): void {
  const both = w.from.filter((x) => w.to.includes(x));
  if (both.length) {
    report(f, [...path, "to"], owner, `a wall from ${both.join(", ")} to itself stops its members reaching each other; name two different groups`, "warning");
  }
}

const UNITS: Record<string, number> = { second: 1, minute: 60, hour: 3600, day: 86_400 };

/** "600 messages a minute" in a limit's description or reason must say what max_messages and window_s do. */
function limitWords(f: ParsedFile<unknown>, path: (string | number)[], owner: string, l: LimitDef, report: Report): void {
  for (const key of ["description", "reason"] as const) {
    const text = l[key];
    if (!text) continue;
    const m = /(\d[\d,]*)\s+messages?\s+(?:a|an|per|each|every|in\s+(?:a|one))\s+(second|minute|hour|day)\b/i.exec(text);
    if (!m) continue;
    const n = Number(m[1]!.replaceAll(",", ""));
    const window = UNITS[m[2]!.toLowerCase()]!;
    if (l.max_messages === undefined) {
      report(f, [...path, key], owner, `${key} says "${m[0]}" but the limit sets no max_messages`);
    } else if (n !== l.max_messages || window !== l.window_s) {
      report(f, [...path, key], owner, `${key} says "${m[0]}" but the limit lets ${l.max_messages} messages through per ${l.window_s} s window`);
    }
  }
}
