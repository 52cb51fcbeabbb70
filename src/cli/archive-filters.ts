/**
 * The archive commands' filter flags and how they become an archive query.
 * The flags, their help and the errors naming them belong to the command
 * line; the query they make is the archive's (ArchiveQuery).
 */
import type { Command } from "commander";
import { UsageError } from "../errors.js";
import { OUTCOMES } from "../archive/outcomes.js";
import type { ArchiveQuery } from "../archive/store.js";
import { KINDS } from "../pipeline/policy/schema.js";

export interface FilterOptions {
  participant?: string;
  domain?: string;
  since?: string;
  until?: string;
  text?: string;
  verdict?: string;
  rule?: string;
  thread?: string;
  direction?: string;
  kind?: string;
  outcome?: string;
}

export const FILTER_FLAGS: [string, string][] = [
  ["--participant <address>", "bare address on either side"],
  ["--domain <domain>", "domain of either side"],
  ["--since <time>", "from this time (ISO 8601, UTC unless an offset is given), inclusive"],
  ["--until <time>", "up to this time, exclusive"],
  ["--text <words>", 'words that must all occur in subject or body; "quoted phrases" too'],
  ["--verdict <verdict>", "allow, block, quarantine or released"],
  ["--rule <id>", "policy rule id"],
  ["--thread <id>", "conversation thread id"],
  ["--direction <dir>", "inbound, outbound or internal"],
  ["--kind <kind>", "message, groupchat, subscription, file-transfer, presence, iq"],
  ["--outcome <outcome>", `latest delivery outcome: ${OUTCOMES.join(", ")}`],
];

/** The values a filter may take; a typo is a usage error, not an empty result. */
export const FILTER_VALUES = {
  verdict: ["allow", "block", "quarantine", "released"],
  direction: ["inbound", "outbound", "internal"],
  kind: [...KINDS],
  outcome: [...OUTCOMES],
} as const;

/** A command with the filter flags and --actor. */
export function withFilters(cmd: Command): Command {
  for (const [flag, help] of FILTER_FLAGS) cmd.option(flag, help);
  return cmd.option("--actor <name>", "who is asking, for the audit log (default: the OS user)");
}

export function parseTime(v: string | undefined, flag: string): number | undefined {
  if (v === undefined) return undefined;
  const iso = /^\d{4}-\d{2}-\d{2}$/.test(v) ? `${v}T00:00:00Z` : /[zZ]|[+-]\d{2}:?\d{2}$/.test(v) ? v : `${v}Z`;
  const t = Date.parse(iso);
  if (Number.isNaN(t)) throw new UsageError(`${flag} "${v}" is not a date or time (use e.g. 2024-03-01 or 2024-03-01T12:00:00Z)`);
  return t;
}

export function queryFrom(o: FilterOptions): ArchiveQuery {
  const q: ArchiveQuery = {};
  for (const k of ["participant", "domain", "text", "verdict", "rule", "thread", "direction", "kind", "outcome"] as const) {
    if (o[k] !== undefined) q[k] = o[k];
  }
  for (const [k, allowed] of Object.entries(FILTER_VALUES) as [keyof typeof FILTER_VALUES, readonly string[]][]) {
    const v = q[k];
    if (v !== undefined && !allowed.includes(v)) throw new UsageError(`--${k} "${v}" is not a valid ${k}; use one of: ${allowed.join(", ")}`);
  }
  const since = parseTime(o.since, "--since");
  const until = parseTime(o.until, "--until");
  if (since !== undefined) q.since = since;
  if (until !== undefined) q.until = until;
  return q;
}
