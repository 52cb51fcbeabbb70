/**
 * Retention and legal holds. Retention rules live in the config (archive
 * section): an ordered list, the first rule matching a record (by partner
 * domain, or by a participant group of bare addresses and "@domain" entries)
 * decides how many days it is kept; records no rule matches keep
 * default_days; 0 means forever. A purge removes content only (the record's
 * seq, rid, time and hash stay, so the chain still verifies) and skips every
 * record an active hold covers: by user, by domain, or by a saved search.
 * Each purge is recorded in archive_purge, each hold in archive_hold.
 */
import type { Logger } from "../log.js";
import { bareOf, domainOf } from "../model/envelope.js";
import { parseQuery } from "./query.js";
import type { StoredRecord } from "./record.js";
import type { ArchiveStore, Hold } from "./store.js";

const DAY = 86_400_000;

export interface RetentionRule {
  name: string;
  days: number;
  partners: string[];
  participants: string[];
}
export interface RetentionPolicy {
  default_days: number;
  rules: RetentionRule[];
}

export interface PurgeResult {
  purgeId: number | undefined;
  purged: number;
  held: number;
  byRule: Record<string, number>;
}

function sides(r: StoredRecord): { bares: string[]; domains: string[] } {
  const bares = [r.from, r.to].filter(Boolean).map(bareOf);
  const domains = [...bares.map(domainOf), ...(r.partner ? [r.partner.toLowerCase()] : [])];
  return { bares, domains };
}

export function ruleFor(policy: RetentionPolicy, r: StoredRecord): { name: string; days: number } {
  const { bares, domains } = sides(r);
  for (const rule of policy.rules) {
    const partners = rule.partners.map((p) => p.toLowerCase());
    const people = rule.participants.map((p) => p.toLowerCase());
    if (
      domains.some((d) => partners.includes(d)) ||
      bares.some((b) => people.includes(b)) ||
      domains.some((d) => people.includes(`@${d}`))
    ) {
      return { name: rule.name, days: rule.days };
    }
  }
  return { name: "default", days: policy.default_days };
}

async function awaitingReview(store: ArchiveStore): Promise<number[]> {
  const seqs: number[] = [];
  for (let after = 0; ; ) {
    const page = await store.pendingQuarantine(after, 1000);
    if (page.length === 0) return seqs;
    for (const r of page) seqs.push(r.seq);
    after = page[page.length - 1]!.seq;
  }
}

async function heldBySearch(store: ArchiveStore, holds: Hold[], cutoff: number): Promise<Set<number>> {
  const seqs = new Set<number>();
  for (const h of holds.filter((x) => x.scope === "search")) {
    const q = parseQuery(h.value);
    q.until = Math.min(q.until ?? cutoff, cutoff);
    for (let after = 0; ; ) {
      const page = await store.find(q, { afterSeq: after, limit: 1000 });
      if (page.length === 0) break;
      for (const r of page) seqs.add(r.seq);
      after = page[page.length - 1]!.seq;
    }
  }
  return seqs;
}

export async function purge(
  store: ArchiveStore,
  policy: RetentionPolicy,
  opts: { now: number; actor: string; dryRun?: boolean },
): Promise<PurgeResult> {
  const periods = [policy.default_days, ...policy.rules.map((r) => r.days)].filter((d) => d > 0);
  const result: PurgeResult = { purgeId: undefined, purged: 0, held: 0, byRule: {} };
  if (periods.length === 0) return result;
  const cutoff = opts.now - Math.min(...periods) * DAY;
  const holds = await store.holds(true);
  const heldUsers = new Set(holds.filter((h) => h.scope === "user").map((h) => bareOf(h.value)));
  const heldDomains = new Set(holds.filter((h) => h.scope === "domain").map((h) => h.value.toLowerCase()));
  const heldSeqs = await heldBySearch(store, holds, cutoff);
  // A message held for review is not the retention clock's to delete: an officer must release or reject it first.
  for (const seq of await awaitingReview(store)) heldSeqs.add(seq);
  const doomed: number[] = [];
  for (let after = 0; ; ) {
    const page = await store.find({ until: cutoff }, { afterSeq: after, limit: 1000 });
    if (page.length === 0) break;
    after = page[page.length - 1]!.seq;
    for (const r of page) {
      const rule = ruleFor(policy, r);
      if (rule.days === 0 || r.ts >= opts.now - rule.days * DAY) continue;
      const { bares, domains } = sides(r);
      if (heldSeqs.has(r.seq) || bares.some((b) => heldUsers.has(b)) || domains.some((d) => heldDomains.has(d))) {
        result.held++;
        continue;
      }
      doomed.push(r.seq);
      result.byRule[rule.name] = (result.byRule[rule.name] ?? 0) + 1;
    }
  }
  if (opts.dryRun) {
    result.purged = doomed.length;
    return result;
  }
  result.purgeId = await store.recordPurge({ at: opts.now, actor: opts.actor, rules: JSON.stringify(policy), purged: 0, held: result.held });
  result.purged = await store.tombstone(doomed, result.purgeId);
  await store.updatePurge(result.purgeId, result.purged, result.held);
  return result;
}

/**
 * Runs the purge every `hours` (none when 0), one run at a time, reading the
 * policy at each run so a reload (SIGHUP) applies; returns what stops it.
 */
export function schedulePurge(store: ArchiveStore, hours: number, policy: () => RetentionPolicy, log: Logger): () => void {
  if (hours <= 0) return () => undefined;
  let purging = false;
  const timer = setInterval(() => {
    if (purging) return;
    purging = true;
    purge(store, policy(), { now: Date.now(), actor: "retention" })
      .then((r) => r.purged && log.info({ purged: r.purged, held: r.held, purgeId: r.purgeId }, "archive retention purge"))
      .catch((err) => log.error({ err: (err as Error).message }, "archive retention purge failed"))
      .finally(() => (purging = false));
  }, hours * 3_600_000);
  timer.unref();
  return () => clearInterval(timer);
}
