/**
 * `demarc policy report`: per rule (shadow ones included) how often it fired
 * in the archive, on which directions and partners, with sample record
 * numbers: the officer's evidence before switching a shadow rule on. Verdict
 * lists are interned per context, so the archive is read grouped by context,
 * direction and partner, and each list is parsed once.
 */
import type { Db } from "./db.js";

export interface RuleStats {
  ruleId: string;
  /** Records it acted on (once per record, however many verdicts it gave there). */
  fired: number;
  enforced: number;
  shadow: number;
  actions: Record<string, number>;
  directions: Record<string, number>;
  /** By partner domain; internal traffic counts under "(internal)". */
  partners: Record<string, number>;
  /** A few record numbers (#seq) to look at. */
  samples: number[];
}

export const SAMPLES = 5;

interface GroupRow { context_id: number; direction: string | null; partner: string | null; n: number | string; first: number | string; last: number | string }
interface Verdict { ruleId: string | null; action: string; shadow: boolean }

export async function ruleReport(db: Db, range: { since?: number | undefined; until?: number | undefined }): Promise<{ records: number; rules: RuleStats[] }> {
  const q = db("archive_message as m")
    .leftJoin("archive_party as p", "p.id", "m.partner_id")
    .whereNotNull("m.context_id")
    .whereNull("m.purge_id")
    .groupBy("m.context_id", "m.direction", "p.address")
    .select("m.context_id", "m.direction", "p.address as partner")
    .count({ n: "*" })
    .min({ first: "m.seq" })
    .max({ last: "m.seq" });
  if (range.since !== undefined) q.where("m.ts", ">=", range.since);
  if (range.until !== undefined) q.where("m.ts", "<", range.until);
  const groups = (await q) as GroupRow[];
  const ids = [...new Set(groups.map((g) => Number(g.context_id)))];
  const lists = new Map<number, Verdict[]>();
  for (let i = 0; i < ids.length; i += 500) {
    for (const c of (await db("archive_context").whereIn("id", ids.slice(i, i + 500)).select("id", "verdicts")) as { id: number; verdicts: string }[]) {
      lists.set(Number(c.id), JSON.parse(c.verdicts) as Verdict[]);
    }
  }
  const stats = new Map<string, RuleStats>();
  let records = 0;
  for (const g of groups) {
    const n = Number(g.n);
    records += n;
    // One entry per rule per record: a rule that redacted and tagged the same message fired once there.
    const byRule = new Map<string, Verdict[]>();
    for (const v of lists.get(Number(g.context_id)) ?? []) if (v.ruleId) byRule.set(v.ruleId, [...(byRule.get(v.ruleId) ?? []), v]);
    for (const [ruleId, vs] of byRule) {
      const s = stats.get(ruleId) ?? { ruleId, fired: 0, enforced: 0, shadow: 0, actions: {}, directions: {}, partners: {}, samples: [] };
      s.fired += n;
      if (vs.every((v) => v.shadow)) s.shadow += n;
      else s.enforced += n;
      for (const a of new Set(vs.map((v) => v.action))) s.actions[a] = (s.actions[a] ?? 0) + n;
      const dir = g.direction ?? "unknown";
      s.directions[dir] = (s.directions[dir] ?? 0) + n;
      const partner = g.partner ?? "(internal)";
      s.partners[partner] = (s.partners[partner] ?? 0) + n;
      for (const seq of [Number(g.first), Number(g.last)]) if (s.samples.length < SAMPLES && !s.samples.includes(seq)) s.samples.push(seq);
      stats.set(ruleId, s);
    }
  }
  const rules = [...stats.values()].sort((a, b) => b.fired - a.fired || a.ruleId.localeCompare(b.ruleId));
  for (const r of rules) r.samples.sort((a, b) => a - b);
  return { records, rules };
}

const top = (m: Record<string, number>, limit = 10) => {
  const entries = Object.entries(m).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  const shown = entries.slice(0, limit).map(([k, v]) => `${k} ${v}`).join(", ");
  return entries.length > limit ? `${shown}, ... (${entries.length - limit} more)` : shown;
};

/** The report as an officer reads it; `known` lists rules of the current policy, so silent ones show too. */
export function formatRuleReport(r: { records: number; rules: RuleStats[] }, period: string, known: { id: string; shadow: boolean }[] = []): string {
  const out = [`Rules that fired ${period}: ${r.rules.length} rule(s) over ${r.records} archived record(s) with a verdict list`];
  for (const s of r.rules) {
    const mode = s.shadow && !s.enforced ? " [SHADOW]" : s.shadow ? ` [${s.shadow} shadow]` : "";
    out.push("", `${s.ruleId}${mode}: fired on ${s.fired} record(s) (${top(s.actions)})`);
    out.push(`  directions: ${top(s.directions)}`);
    out.push(`  partners:   ${top(s.partners)}`);
    out.push(`  samples:    ${s.samples.map((x) => `#${x}`).join(" ")}  (demarc archive search --rule ${s.ruleId})`);
  }
  const fired = new Set(r.rules.map((s) => s.ruleId));
  const silent = known.filter((k) => !fired.has(k.id));
  if (silent.length) out.push("", `Did not fire ${period}: ${silent.map((k) => `${k.id}${k.shadow ? " [SHADOW]" : ""}`).join(", ")}`);
  return out.join("\n") + "\n";
}
