/**
 * What retention writes and reads: tombstoning purged records (content gone,
 * chain kept), the purge log, and legal holds.
 */
import type { Knex } from "knex";
import { num, numOrNull } from "./store-rows.js";
import type { Hold, PurgeEntry } from "./store.js";

const TOMBSTONE_CHUNK = 500;

export class RetentionStore {
  constructor(private readonly db: Knex) {}

  async tombstone(seqs: number[], purgeId: number): Promise<number> {
    let n = 0;
    await this.db.transaction(async (trx) => {
      for (let i = 0; i < seqs.length; i += TOMBSTONE_CHUNK) {
        n += await trx("archive_message").whereIn("seq", seqs.slice(i, i + TOMBSTONE_CHUNK)).whereNull("purge_id").update({
          from_id: null, to_id: null, partner_id: null, thread: null, subject: null, body: null,
          delivered_body: null, content: null, rule_id: null, context_id: null, purge_id: purgeId,
        });
      }
    });
    return n;
  }

  async recordPurge(e: Omit<PurgeEntry, "id">): Promise<number> {
    const [row] = await this.db("archive_purge").insert(e).returning("id");
    return num((row as { id: unknown }).id);
  }

  async updatePurge(id: number, purged: number, held: number): Promise<void> {
    await this.db("archive_purge").where({ id }).update({ purged, held });
  }

  async purges(): Promise<PurgeEntry[]> {
    const rows = await this.db("archive_purge").select("*").orderBy("id");
    return rows.map((r) => ({ ...r, id: num(r.id), at: num(r.at), purged: num(r.purged), held: num(r.held) }));
  }

  async addHold(h: Omit<Hold, "id" | "releasedAt" | "releasedBy">): Promise<number> {
    const [row] = await this.db("archive_hold")
      .insert({ created_at: h.createdAt, created_by: h.createdBy, scope: h.scope, value: h.value, reason: h.reason })
      .returning("id");
    return num((row as { id: unknown }).id);
  }

  async releaseHold(id: number, by: string, at: number): Promise<boolean> {
    const n = await this.db("archive_hold").where({ id }).whereNull("released_at").update({ released_at: at, released_by: by });
    return n > 0;
  }

  async holds(activeOnly: boolean): Promise<Hold[]> {
    const qb = this.db("archive_hold").select("*").orderBy("id");
    if (activeOnly) qb.whereNull("released_at");
    return (await qb).map((r) => ({
      id: num(r.id),
      createdAt: num(r.created_at),
      createdBy: r.created_by,
      scope: r.scope,
      value: r.value,
      reason: r.reason ?? null,
      releasedAt: numOrNull(r.released_at),
      releasedBy: r.released_by ?? null,
    }));
  }
}
