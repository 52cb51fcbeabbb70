/**
 * The small pattern language of policy files: domain and address globs,
 * "group:NAME" references, and time windows. Everything compiles once at load
 * so a message pays only for the tests.
 */
import { bareOf, lowerCased } from "../model/envelope.js";
import { foldAddress } from "../model/precis.js";
import type { GroupSource } from "./groups.js";

/** Tests a bare address (user@domain) or a bare domain. */
export type AddressMatcher = (bareAddress: string) => boolean;

/**
 * Whether `text` matches `glob`, where "*" matches any run of characters (dots
 * included) and everything else is literal; both already lower-cased. No
 * regex: on a backtracking engine a glob with several stars ("*a*a*a*a*b")
 * takes polynomial time in the address length, and addresses come from the
 * wire. This is the greedy wildcard match with one backtrack point (the last
 * star): at worst |text| x |glob| steps, and one pass for the usual
 * "*@domain" and "*.domain" shapes. `from` skips a prefix of `text` (an
 * address's localpart) without slicing it off.
 */
export function globMatch(glob: string, text: string, from = 0): boolean {
  let g = 0;
  let t = from;
  let star = -1;
  let mark = 0;
  while (t < text.length) {
    if (g < glob.length && glob.charCodeAt(g) === 42 /* * */) {
      star = g++;
      mark = t;
    } else if (g < glob.length && glob.charCodeAt(g) === text.charCodeAt(t)) {
      g++;
      t++;
    } else if (star >= 0) {
      g = star + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (g < glob.length && glob.charCodeAt(g) === 42) g++;
  return g === glob.length;
}

/**
 * globMatch for one glob, specialised for the shapes policies use: a literal
 * is a comparison and "*" followed by a literal ("*@domain", "*.domain") is
 * a suffix test, both native string operations; any other glob runs
 * globMatch. The same answers, without a loop per character per test.
 */
export function compileGlob(glob: string): (text: string, from?: number) => boolean {
  const star = glob.indexOf("*");
  if (star < 0) return (t, from = 0) => t.length - from === glob.length && t.startsWith(glob, from);
  if (star === 0 && glob.indexOf("*", 1) < 0) {
    const suffix = glob.slice(1);
    return (t, from = 0) => t.length - from >= suffix.length && t.endsWith(suffix);
  }
  return (t, from = 0) => globMatch(glob, t, from);
}

/**
 * "alice@corp.example", "*@research.corp.example" match addresses; a pattern
 * without "@" ("partner.example", "*.bank.example") matches the address's domain.
 * Case-insensitive.
 */
export function compileAddressPattern(pattern: string): AddressMatcher {
  const m = compileLowerAddressPattern(pattern);
  return (a) => m(lowerCased(a));
}

/** compileAddressPattern for addresses already in lower case (a group lowers one once for all its tests). */
export function compileLowerAddressPattern(pattern: string): AddressMatcher {
  // Addresses arrive prepared (RFC 7622 PRECIS): a pattern typed in another case or Unicode form must match them.
  const p = foldAddress(pattern.trim());
  if (p === "*") return () => true;
  const glob = compileGlob(p);
  if (p.includes("@")) return (a) => glob(a);
  return (a) => glob(a, a.indexOf("@") + 1);
}

export function compileDomainPattern(pattern: string): (domain: string) => boolean {
  const p = pattern.trim().toLowerCase();
  if (p === "*") return () => true;
  const glob = compileGlob(p);
  return (d) => glob(lowerCased(d));
}

export const GROUP_PREFIX = "group:";

/** A list of "group:NAME" references and patterns; matches when any entry does. */
export function compileMembers(specs: string[], groups: GroupSource): (address: string) => boolean {
  const named = specs.filter((s) => s.startsWith(GROUP_PREFIX)).map((s) => s.slice(GROUP_PREFIX.length));
  const patterns = specs.filter((s) => !s.startsWith(GROUP_PREFIX)).map(compileAddressPattern);
  return (address) => {
    const bare = bareOf(address);
    for (let i = 0; i < patterns.length; i++) if (patterns[i]!(bare)) return true;
    for (let i = 0; i < named.length; i++) if (groups.isMember(named[i]!, bare)) return true;
    return false;
  };
}

export const DAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"] as const;
export type Day = (typeof DAYS)[number];

export interface TimeWindow {
  days?: Day[] | undefined;
  /** "HH:MM-HH:MM"; may cross midnight ("22:00-06:00"). */
  hours?: string | undefined;
  /** IANA zone name; UTC when absent. */
  zone?: string | undefined;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(zone: string): Intl.DateTimeFormat {
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", { timeZone: zone, weekday: "short", hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
    formatters.set(zone, f);
  }
  return f;
}

export function parseHours(hours: string): [number, number] | undefined {
  const m = /^(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})$/.exec(hours.trim());
  if (!m) return undefined;
  const [h1, m1, h2, m2] = [m[1], m[2], m[3], m[4]].map(Number) as [number, number, number, number];
  if (h1 > 24 || h2 > 24 || m1 > 59 || m2 > 59) return undefined;
  return [h1 * 60 + m1, h2 * 60 + m2];
}

export function compileTimeWindow(w: TimeWindow): (now: number) => boolean {
  const f = formatter(w.zone ?? "UTC");
  const days = w.days ? new Set(w.days) : undefined;
  const range = w.hours ? parseHours(w.hours) : undefined;
  return (now) => {
    const parts = f.formatToParts(new Date(now));
    const get = (t: string) => parts.find((p) => p.type === t)?.value ?? "";
    if (days && !days.has(get("weekday").toLowerCase().slice(0, 3) as Day)) return false;
    if (!range) return true;
    const minute = Number(get("hour")) * 60 + Number(get("minute"));
    const [start, end] = range;
    return start <= end ? minute >= start && minute < end : minute >= start || minute < end;
  };
}
