/**
 * What the archive CLI (and later the review UI) shares: opening the store
 * from the config, naming the actor, writing the audit trail, and one-line
 * renderings of records. The command-line filters live in src/cli.
 */
import { userInfo } from "node:os";
import { loadConfig, resolvePath, type LoadedConfig } from "../config/load.js";
import { migrate, openDatabase, type Db } from "./db.js";
import { KnexArchiveStore } from "./knex-store.js";
import { releasedBy } from "./quarantine.js";
import type { StoredRecord } from "./record.js";
import type { ArchiveStore } from "./store.js";
import { describeOutcome, type OutcomeEntry } from "./outcomes.js";

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
