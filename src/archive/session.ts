/**
 * What the archive CLI (and later the review UI) shares: opening the store
 * from the config, turning options into a query, naming the actor, writing
 * the audit trail, and one-line renderings of records.
 */
import { userInfo } from "node:os";
import { loadConfig, resolvePath, type LoadedConfig } from "../config/load.js";
import { UsageError } from "../errors.js";
import { migrate, openDatabase, type Db } from "./db.js";
import { KnexArchiveStore } from "./knex-store.js";
import { releasedBy } from "./quarantine.js";
import type { StoredRecord } from "./record.js";
import type { ArchiveQuery, ArchiveStore } from "./store.js";
import { describeOutcome, OUTCOMES, type OutcomeEntry } from "./outcomes.js";
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

export function actorOf(explicit: string | undefined): string {
  if (explicit) return explicit;
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? "unknown";
  }
}

export interface Session {
  config: LoadedConfig;
  db: Db;
  store: ArchiveStore;
  actor: string;
  audit(action: string, query: unknown, result: number | null): Promise<void>;
  close(): Promise<void>;
}

export async function openSession(configPath: string | undefined, actor: string | undefined): Promise<Session> {
  const config = loadConfig({ path: configPath });
  const dataDir = resolvePath(config, config.data_dir);
  const db = await openDatabase(config.archive.url, dataDir, config.archive.connect_timeout_s);
  try {
    await migrate(db);
  } catch (err) {
    await db.destroy();
    throw err;
  }
  const store = new KnexArchiveStore(db);
  const who = actorOf(actor);
  return {
    config,
    db,
    store,
    actor: who,
    audit: (action, query, result) =>
      store.audit({ at: Date.now(), actor: who, action, query: query === null ? null : JSON.stringify(query), result }),
    close: () => db.destroy(),
  };
}

const clip = (s: string | null, n: number) => {
  const flat = (s ?? "").replace(/\s+/g, " ");
  return flat.length > n ? `${flat.slice(0, n - 1)}…` : flat;
};

/** One line per record; with its outcome history when known ("held > released > delivered"). */
export function searchLine(r: StoredRecord, outcomes?: OutcomeEntry[]): string {
  const by = releasedBy(r);
  const fate = outcomes?.length ? `; ${outcomes.map(describeOutcome).join(" > ")}` : "";
  const marks = `${r.verdict}${r.ruleId ? `:${r.ruleId}` : ""}${by ? ` by ${by}` : ""}${fate}`;
  const subj = r.subject ? `[${clip(r.subject, 40)}] ` : "";
  return `#${r.seq} ${new Date(r.ts).toISOString()} ${r.direction} ${r.kind} ${r.from} -> ${r.to} (${marks}) ${subj}${clip(r.body, 80)}`;
}

/** One line of a conversation; the outcome is shown when the message did not simply arrive. */
export function threadLine(r: StoredRecord, latest?: OutcomeEntry): string {
  const by = releasedBy(r);
  const fate = latest && latest.outcome !== "delivered" && latest.outcome !== "stored-offline" ? ` [${describeOutcome(latest)}]` : "";
  const flag = (r.verdict === "allow" ? "" : ` [${r.verdict}${r.ruleId ? ` ${r.ruleId}` : ""}${by ? ` by ${by}` : ""}]`) + fate;
  return `${new Date(r.ts).toISOString()} ${r.from}${flag}: ${r.body ?? ""}`;
}
