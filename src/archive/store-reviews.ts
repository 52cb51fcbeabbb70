/** Quarantined records waiting for a compliance officer, and the officers' reviews (one per record). */
import type { Knex } from "knex";
import type { StoredRecord } from "./record.js";
import { num, selectMessages, toStored } from "./store-rows.js";
import type { Review } from "./store.js";

export class ReviewStore {
  constructor(private readonly db: Knex) {}

  private unreviewed(qb: Knex.QueryBuilder): Knex.QueryBuilder {
    return qb
      .where("m.verdict", "quarantine")
      .whereNull("m.purge_id")
      .whereNotExists(this.db("archive_review as r").select("r.id").whereRaw("r.seq = m.seq"));
  }

  async pendingQuarantine(afterSeq: number, limit: number): Promise<StoredRecord[]> {
    const rows = (await this.unreviewed(selectMessages(this.db)).where("m.seq", ">", afterSeq).orderBy("m.seq", "asc").limit(limit)) as Record<string, unknown>[];
    return rows.map(toStored);
  }

  async countPendingQuarantine(): Promise<number> {
    const [row] = (await this.unreviewed(this.db("archive_message as m")).count({ n: "*" })) as { n: number | string }[];
    return Number(row?.n ?? 0);
  }

  async addReview(r: Omit<Review, "id">): Promise<{ review: Review; created: boolean }> {
    const existing = await this.reviewOf(r.seq);
    if (existing) return { review: existing, created: false };
    try {
      const [row] = await this.db("archive_review")
        .insert({ seq: r.seq, at: r.at, decision: r.decision, actor: r.actor, comment: r.comment })
        .returning("id");
      return { review: { ...r, id: num((row as { id: unknown }).id) }, created: true };
    } catch (err) {
      // Another officer (or gateway) reviewed it between the check and the insert: the unique key on seq refused ours.
      const raced = await this.reviewOf(r.seq);
      if (raced) return { review: raced, created: false };
      throw err;
    }
  }

  async reviewOf(seq: number): Promise<Review | undefined> {
    const r = await this.db("archive_review").where({ seq }).first();
    if (!r) return undefined;
    return { id: num(r.id), seq: num(r.seq), at: num(r.at), decision: r.decision, actor: r.actor, comment: r.comment ?? null };
  }

  async removeReview(id: number): Promise<void> {
    await this.db("archive_review").where({ id }).delete();
  }
}
