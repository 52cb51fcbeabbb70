/**
 * The archive store: the one interface every database back end implements and
 * one contract test suite checks (test/archive/store.contract.ts). The writer
 * appends; security tooling finds, counts, walks, purges, holds, reviews
 * quarantined records and audits.
 */
import type { ArchiveRecord, StoredRecord } from "./record.js";

/** A search. Every field narrows; none given means everything. */
export interface ArchiveQuery {
  /** Bare address on either side (from or to). */
  participant?: string | undefined;
  /** A second bare address on either side: with participant, the conversation between the two. */
  peer?: string | undefined;
  /** Domain of either side. */
  domain?: string | undefined;
  /** Epoch ms, inclusive. */
  since?: number | undefined;
  /** Epoch ms, exclusive. */
  until?: number | undefined;
  /** Words (all must occur) and "quoted phrases", in subject or body. */
  text?: string | undefined;
  verdict?: string | undefined;
  /** A rule that fired at all: the one that decided, or any in the verdict list, shadow ones included. */
  rule?: string | undefined;
  thread?: string | undefined;
  direction?: string | undefined;
  kind?: string | undefined;
  /** The latest delivery outcome (archive_outcome): delivered, refused, bounced, ... */
  outcome?: string | undefined;
}

export interface FindOptions {
  /** Keyset paging: records with seq greater than this. */
  afterSeq?: number | undefined;
  /** Keyset paging backwards: records with seq less than this, newest first. */
  beforeSeq?: number | undefined;
  limit: number;
  /** Include records whose content retention purged. */
  includePurged?: boolean | undefined;
}

export interface Hold {
  id: number;
  createdAt: number;
  createdBy: string;
  scope: "user" | "domain" | "search";
  /** Bare address, domain, or the JSON of an ArchiveQuery. */
  value: string;
  reason: string | null;
  releasedAt: number | null;
  releasedBy: string | null;
}

export interface AuditEntry {
  id: number;
  at: number;
  actor: string;
  action: string;
  query: string | null;
  result: number | null;
}

export interface PurgeEntry {
  id: number;
  at: number;
  actor: string;
  rules: string;
  purged: number;
  held: number;
}

/** A compliance officer's decision on a quarantined record; one per record. */
export interface Review {
  id: number;
  /** The quarantined record's seq. */
  seq: number;
  at: number;
  decision: "released" | "rejected";
  actor: string;
  comment: string | null;
}

/** A chain link as verify needs it: the record, its stored hash, whether it was purged. */
export type ChainLink = StoredRecord;

export interface ArchiveStore {
  readonly dialect: "sqlite" | "pg";
  /** Stores new records in order, extending the hash chain; records whose rid is stored already are skipped. */
  append(records: ArchiveRecord[]): Promise<{ inserted: number; skipped: number }>;
  find(q: ArchiveQuery, opts: FindOptions): Promise<StoredRecord[]>;
  count(q: ArchiveQuery): Promise<number>;
  /** Every record, purged ones included, in chain order from afterSeq. */
  chain(afterSeq: number, limit: number): Promise<ChainLink[]>;
  /** Drops content of these records, keeping seq, rid, ts and hash for the chain. */
  tombstone(seqs: number[], purgeId: number): Promise<number>;
  recordPurge(entry: Omit<PurgeEntry, "id">): Promise<number>;
  updatePurge(id: number, purged: number, held: number): Promise<void>;
  purges(): Promise<PurgeEntry[]>;
  addHold(h: Omit<Hold, "id" | "releasedAt" | "releasedBy">): Promise<number>;
  releaseHold(id: number, by: string, at: number): Promise<boolean>;
  holds(activeOnly: boolean): Promise<Hold[]>;
  /** One record by seq, purged or not. */
  get(seq: number): Promise<StoredRecord | undefined>;
  /** Quarantined records with content and no review yet, in seq order after afterSeq. */
  pendingQuarantine(afterSeq: number, limit: number): Promise<StoredRecord[]>;
  /** How many quarantined records wait for review. */
  countPendingQuarantine(): Promise<number>;
  /**
   * Records a review unless the record has one: then nothing is written and
   * the existing review comes back with created false.
   */
  addReview(r: Omit<Review, "id">): Promise<{ review: Review; created: boolean }>;
  reviewOf(seq: number): Promise<Review | undefined>;
  /** Takes back a release that could not be delivered, so the record is pending again. */
  removeReview(id: number): Promise<void>;
  audit(entry: Omit<AuditEntry, "id">): Promise<void>;
  auditLog(limit: number): Promise<AuditEntry[]>;
  /** Whether the database answers. */
  ping(): Promise<void>;
}
