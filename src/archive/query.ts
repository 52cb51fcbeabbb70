/**
 * Turns an ArchiveQuery into knex conditions on archive_message (alias m).
 * Full text is the one dialect split: FTS5 on SQLite, an expression GIN index
 * with phraseto_tsquery on PostgreSQL. User text never reaches either
 * query language unquoted: FTS5 syntax errors would throw, so words and
 * "phrases" are re-quoted one by one.
 */
import type { Knex } from "knex";
import type { ArchiveQuery } from "./store.js";

/** Words and quoted phrases of a search, as FTS5 strings ("a" "b c"). */
export function ftsTerms(text: string): string[] {
  const terms: string[] = [];
  const re = /"([^"]*)"|(\S+)/g;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const term = (m[1] ?? m[2] ?? "").replace(/"/g, "").trim();
    if (term && /[\p{L}\p{N}]/u.test(term)) terms.push(`"${term}"`);
  }
  return terms;
}

export const PG_TSV = "to_tsvector('simple', coalesce(m.subject, '') || ' ' || coalesce(m.body, ''))";

export function applyQuery(db: Knex, qb: Knex.QueryBuilder, q: ArchiveQuery, pg: boolean): Knex.QueryBuilder {
  const party = (col: "bare" | "domain", value: string) => db("archive_party").select("id").where(col, value.toLowerCase());
  if (q.participant) {
    const who = q.participant;
    qb.where((b) => b.whereIn("m.from_id", party("bare", who)).orWhereIn("m.to_id", party("bare", who)));
  }
  if (q.peer) {
    const who = q.peer;
    qb.where((b) => b.whereIn("m.from_id", party("bare", who)).orWhereIn("m.to_id", party("bare", who)));
  }
  if (q.domain) {
    const d = q.domain;
    qb.where((b) => b.whereIn("m.from_id", party("domain", d)).orWhereIn("m.to_id", party("domain", d)));
  }
  if (q.since !== undefined) qb.where("m.ts", ">=", q.since);
  if (q.until !== undefined) qb.where("m.ts", "<", q.until);
  if (q.verdict) qb.where("m.verdict", q.verdict);
  // The deciding rule, or any rule in the verdict list, shadow ones included.
  const rule = q.rule;
  if (rule) {
    // Verdict lists are interned per context (archive_context), so the LIKE runs over a few rows, not every message.
    const needle = `%"ruleId":${JSON.stringify(rule).replace(/[\\%_]/g, "\\$&")}%`;
    const contexts = db("archive_context").select("id").whereRaw("verdicts like ? escape '\\'", [needle]);
    qb.where((b) => b.where("m.rule_id", rule).orWhereIn("m.context_id", contexts));
  }
  if (q.outcome) {
    const latest = db("archive_outcome as o")
      .select("o.msg_id")
      .where("o.outcome", q.outcome)
      .whereRaw("o.id = (select max(o2.id) from archive_outcome o2 where o2.msg_id = o.msg_id)");
    qb.whereIn("m.msg_id", latest);
  }
  if (q.thread) qb.where("m.thread", q.thread);
  if (q.direction) qb.where("m.direction", q.direction);
  if (q.kind) qb.where("m.kind", q.kind);
  if (q.text !== undefined) {
    // Same meaning on both: every word and every phrase must occur; no operators.
    const terms = ftsTerms(q.text);
    if (terms.length === 0) qb.whereRaw("1 = 0");
    else if (pg) {
      const tsq = terms.map(() => "phraseto_tsquery('simple', ?)").join(" && ");
      qb.whereRaw(`${PG_TSV} @@ (${tsq})`, terms.map((t) => t.slice(1, -1)));
    } else {
      qb.whereRaw("m.seq in (select rowid from archive_fts where archive_fts match ?)", [terms.join(" ")]);
    }
  }
  return qb;
}

/** Parses and checks a query given as JSON (a search-scoped legal hold). */
export function parseQuery(json: string): ArchiveQuery {
  const v = JSON.parse(json) as Record<string, unknown>;
  const q: ArchiveQuery = {};
  for (const k of ["participant", "peer", "domain", "text", "verdict", "rule", "thread", "direction", "kind", "outcome"] as const) {
    if (typeof v[k] === "string") q[k] = v[k];
  }
  for (const k of ["since", "until"] as const) if (typeof v[k] === "number") q[k] = v[k];
  return q;
}
