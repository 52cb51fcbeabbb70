/**
 * The archive store on knex, for SQLite and PostgreSQL: the ArchiveStore
 * interface over one unit per aggregate (store-messages.ts, store-retention.ts,
 * store-reviews.ts, store-audit.ts), each returning data and nothing else.
 * Dialect differences (bigint as string, full text, the writer lock, the bulk
 * insert) are normalized in those units and in query.ts; everything else is
 * plain knex so MSSQL and Oracle can follow.
 */
import { isPostgres, type Db } from "./db.js";
import type { ArchiveRecord, StoredRecord } from "./record.js";
import { AuditStore } from "./store-audit.js";
import { MessageStore } from "./store-messages.js";
import { RetentionStore } from "./store-retention.js";
import { ReviewStore } from "./store-reviews.js";
import type { ArchiveQuery, ArchiveStore, AuditEntry, FindOptions, Hold, PurgeEntry, Review } from "./store.js";

export class KnexArchiveStore implements ArchiveStore {
  readonly dialect: "sqlite" | "pg";
  readonly messages: MessageStore;
  readonly retention: RetentionStore;
  readonly reviews: ReviewStore;
  readonly audits: AuditStore;

  constructor(private readonly db: Db) {
    this.dialect = isPostgres(db) ? "pg" : "sqlite";
    this.messages = new MessageStore(db, this.dialect);
    this.retention = new RetentionStore(db);
    this.reviews = new ReviewStore(db);
    this.audits = new AuditStore(db);
  }

  async ping(): Promise<void> {
    await this.db.raw("select 1");
  }

  append(records: ArchiveRecord[]): Promise<{ inserted: number; skipped: number }> {
    return this.messages.append(records);
  }
  find(q: ArchiveQuery, opts: FindOptions): Promise<StoredRecord[]> {
    return this.messages.find(q, opts);
  }
  count(q: ArchiveQuery): Promise<number> {
    return this.messages.count(q);
  }
  chain(afterSeq: number, limit: number): Promise<StoredRecord[]> {
    return this.messages.chain(afterSeq, limit);
  }
  get(seq: number): Promise<StoredRecord | undefined> {
    return this.messages.get(seq);
  }

  tombstone(seqs: number[], purgeId: number): Promise<number> {
    return this.retention.tombstone(seqs, purgeId);
  }
  recordPurge(e: Omit<PurgeEntry, "id">): Promise<number> {
    return this.retention.recordPurge(e);
  }
  updatePurge(id: number, purged: number, held: number): Promise<void> {
    return this.retention.updatePurge(id, purged, held);
  }
  purges(): Promise<PurgeEntry[]> {
    return this.retention.purges();
  }
  addHold(h: Omit<Hold, "id" | "releasedAt" | "releasedBy">): Promise<number> {
    return this.retention.addHold(h);
  }
  releaseHold(id: number, by: string, at: number): Promise<boolean> {
    return this.retention.releaseHold(id, by, at);
  }
  holds(activeOnly: boolean): Promise<Hold[]> {
    return this.retention.holds(activeOnly);
  }

  pendingQuarantine(afterSeq: number, limit: number): Promise<StoredRecord[]> {
    return this.reviews.pendingQuarantine(afterSeq, limit);
  }
  countPendingQuarantine(): Promise<number> {
    return this.reviews.countPendingQuarantine();
  }
  addReview(r: Omit<Review, "id">): Promise<{ review: Review; created: boolean }> {
    return this.reviews.addReview(r);
  }
  reviewOf(seq: number): Promise<Review | undefined> {
    return this.reviews.reviewOf(seq);
  }
  removeReview(id: number): Promise<void> {
    return this.reviews.removeReview(id);
  }

  audit(e: Omit<AuditEntry, "id">): Promise<void> {
    return this.audits.audit(e);
  }
  auditLog(limit: number): Promise<AuditEntry[]> {
    return this.audits.auditLog(limit);
  }
}
