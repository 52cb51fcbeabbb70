/**
 * Delivery outcomes as the writers store them: rows of archive_outcome,
 * flattened for the trip to the SQLite worker, and the two bulk inserts. On
 * SQLite one prepared one-row INSERT is run for each outcome inside a single
 * transaction (prepared once per connection, so a batch builds no SQL); on
 * PostgreSQL a batch is one parameterised statement over unnest() of five
 * arrays, whatever its size. Both replace a knex multi-row insert built,
 * compiled and prepared again for every batch.
 */
import type { Knex } from "knex";
import type { OutcomeEntry } from "../model/outcome.js";
import type { SqliteConnection, SqliteStatement } from "./sqlite-append.js";

export type OutcomeValue = string | number | null;
/** Values per outcome in a flat list: msg_id, at, outcome, condition, detail. */
export const OUTCOME_WIDTH = 5;

/**
 * The outcomes as one flat list of primitives: what crosses to a worker
 * thread, where a flat array clones at a fraction of the cost of objects.
 */
export function flattenOutcomes(entries: OutcomeEntry[]): OutcomeValue[] {
  const out: OutcomeValue[] = new Array(entries.length * OUTCOME_WIDTH);
  let i = 0;
  for (const e of entries) {
    out[i++] = e.msgId;
    out[i++] = e.at;
    out[i++] = e.outcome;
    out[i++] = e.condition ?? null;
    out[i++] = e.detail ?? null;
  }
  return out;
}

const inserts = new WeakMap<SqliteConnection, SqliteStatement>();

/** SQLite: the flat outcomes, one prepared insert each, in one transaction. */
export function insertOutcomesSqlite(conn: SqliteConnection, flat: OutcomeValue[]): void {
  let insert = inserts.get(conn);
  if (!insert) {
    insert = conn.prepare("insert into archive_outcome (msg_id, at, outcome, condition, detail) values (?, ?, ?, ?, ?)");
    inserts.set(conn, insert);
  }
  const s = insert;
  conn.transaction(() => {
    for (let i = 0; i < flat.length; i += OUTCOME_WIDTH) s.run(flat[i], flat[i + 1], flat[i + 2], flat[i + 3], flat[i + 4]);
  }).immediate();
}

/** PostgreSQL: the whole batch as one statement, each column an array parameter. */
export async function insertOutcomesPg(db: Knex, entries: OutcomeEntry[]): Promise<void> {
  if (entries.length === 0) return;
  const ids: string[] = [];
  const ats: number[] = [];
  const outcomes: string[] = [];
  const conditions: (string | null)[] = [];
  const details: (string | null)[] = [];
  for (const e of entries) {
    ids.push(e.msgId);
    ats.push(e.at);
    outcomes.push(e.outcome);
    conditions.push(e.condition ?? null);
    details.push(e.detail ?? null);
  }
  await db.raw(
    "insert into archive_outcome (msg_id, at, outcome, condition, detail) select * from unnest(?::text[], ?::bigint[], ?::text[], ?::text[], ?::text[])",
    [ids, ats, outcomes, conditions, details] as unknown as Knex.RawBinding[],
  );
}
