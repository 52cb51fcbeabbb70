/**
 * The archive writer's batch insert on PostgreSQL: one transaction that takes
 * the writer lock, drops rids already stored, interns new addresses and
 * contexts, extends the hash chain and COPYs the rows (see pg-copy.ts). Each
 * step is one statement for the whole batch, so a batch costs a handful of
 * round trips whatever its size.
 */
import type { Knex } from "knex";
import { bareOf, domainOf } from "../model/envelope.js";
import type { Interning, Learned } from "./interning.js";
import { copyRows, type CopyValue } from "./pg-copy.js";
import { chainHash, GENESIS, type ArchiveRecord } from "./record.js";
import { MESSAGE_COLUMNS, num } from "./store-rows.js";

/** The batch's records whose rid the database does not hold yet, first occurrence only. */
async function unstored(trx: Knex.Transaction, records: ArchiveRecord[]): Promise<ArchiveRecord[]> {
  const rids = records.map((r) => Buffer.from(r.rid, "hex"));
  const { rows } = (await trx.raw("select rid from archive_message where rid = any(?::bytea[])", [rids])) as { rows: { rid: Buffer }[] };
  const stored = new Set(rows.map((row) => row.rid.toString("hex")));
  return records.filter((r) => !stored.has(r.rid) && (stored.add(r.rid), true));
}

async function internParties(trx: Knex.Transaction, recs: ArchiveRecord[], cache: Interning, learned: Learned): Promise<Map<string, number>> {
  const ids = new Map<string, number>();
  const missing = new Set<string>();
  for (const r of recs) {
    for (const a of [r.from, r.to, r.partner]) {
      if (a === null || ids.has(a)) continue;
      const id = cache.parties.get(a);
      if (id !== undefined) ids.set(a, id);
      else missing.add(a);
    }
  }
  if (missing.size === 0) return ids;
  const want = [...missing];
  await trx.raw(
    "insert into archive_party (address, bare, domain) select * from unnest(?::text[], ?::text[], ?::text[]) on conflict (address) do nothing",
    [want, want.map(bareOf), want.map(domainOf)],
  );
  const { rows } = (await trx.raw("select id, address from archive_party where address = any(?::text[])", [want])) as { rows: { id: unknown; address: string }[] };
  for (const row of rows) {
    ids.set(row.address, num(row.id));
    learned.parties.set(row.address, num(row.id));
  }
  return ids;
}

async function internContexts(trx: Knex.Transaction, recs: ArchiveRecord[], cache: Interning, learned: Learned): Promise<Map<string, number>> {
  const ids = new Map<string, number>();
  const want = new Map<string, ArchiveRecord>();
  for (const r of recs) {
    const k = cache.contextKey(r);
    const id = cache.contexts.get(k);
    if (id !== undefined) ids.set(k, id);
    else want.set(k, r);
  }
  if (want.size === 0) return ids;
  await trx("archive_context")
    .insert([...want].map(([digest, r]) => ({
      digest, policy_version: r.policyVersion, tls_version: r.tlsVersion, auth: r.auth, cert_fingerprint: r.certFingerprint, verdicts: r.verdicts,
    })))
    .onConflict("digest")
    .ignore();
  for (const row of await trx("archive_context").select("id", "digest").whereIn("digest", [...want.keys()])) {
    ids.set(row.digest as string, num(row.id));
    learned.contexts.set(row.digest as string, num(row.id));
  }
  return ids;
}

/** Inserts the records not stored yet, in one transaction; learned ids as in sqlite-append.ts. */
export function appendPg(db: Knex, records: ArchiveRecord[], cache: Interning, learned: Learned): Promise<{ inserted: number; skipped: number }> {
  return db.transaction(async (trx) => {
    // One writer at a time per schema keeps the chain sequential even if two gateways share a database.
    await trx.raw("select pg_advisory_xact_lock(hashtext(current_schema() || '.archive_message'))");
    const fresh = await unstored(trx, records);
    if (fresh.length === 0) return { inserted: 0, skipped: records.length };
    const head = await trx("archive_message").select("seq", "hash").orderBy("seq", "desc").first();
    let seq = head ? num(head.seq) : 0;
    let prev: Buffer = head ? (head.hash as Buffer) : GENESIS;
    const partyIds = await internParties(trx, fresh, cache, learned);
    const contextIds = await internContexts(trx, fresh, cache, learned);
    const rows = fresh.map((r): CopyValue[] => {
      seq += 1;
      prev = chainHash(prev, seq, r);
      return [
        seq, Buffer.from(r.rid, "hex"), r.msgId, r.ts, r.direction, r.protocol, r.kind, r.type,
        partyIds.get(r.from), partyIds.get(r.to), r.partner === null ? null : partyIds.get(r.partner),
        r.thread, r.subject, r.body, r.deliveredBody, r.content ?? null, r.verdict, r.ruleId, contextIds.get(cache.contextKey(r)), prev,
      ];
    });
    await copyRows(trx, "archive_message", MESSAGE_COLUMNS, rows);
    return { inserted: fresh.length, skipped: records.length - fresh.length };
  });
}
