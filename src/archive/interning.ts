/**
 * The ids of interned addresses (archive_party) and decision contexts
 * (archive_context) the writer has seen committed, so a batch looks up only
 * what is new. Ids learned inside a transaction are collected apart and
 * reach the cache only once that transaction committed.
 */
import { createHash } from "node:crypto";
import type { ArchiveRecord } from "./record.js";

/** Ids learned in one transaction, not cached until it commits. */
export interface Learned {
  parties: Map<string, number>;
  contexts: Map<string, number>;
}

/** Distinct contexts are few (policy versions x TLS x auth x verdict lists); past this many the digest memo starts over. */
const MEMO_LIMIT = 10_000;

export class Interning {
  readonly parties = new Map<string, number>();
  readonly contexts = new Map<string, number>();
  /** Context text to its digest: the same few contexts recur on every record. */
  private readonly digests = new Map<string, string>();

  /** The last record's context and digest: records come in runs from one stream, under one policy. */
  private last: { r: ArchiveRecord; digest: string } | undefined;

  /** The context's digest: SHA-256 of the JSON of its fields, the unique key of archive_context. */
  contextKey(r: ArchiveRecord): string {
    const l = this.last;
    if (l && l.r.verdicts === r.verdicts && l.r.policyVersion === r.policyVersion && l.r.tlsVersion === r.tlsVersion && l.r.auth === r.auth && l.r.certFingerprint === r.certFingerprint) {
      return l.digest;
    }
    const digest = this.digestOf(r);
    this.last = { r, digest };
    return digest;
  }

  private digestOf(r: ArchiveRecord): string {
    const text = JSON.stringify([r.policyVersion, r.tlsVersion, r.auth, r.certFingerprint, r.verdicts]);
    let digest = this.digests.get(text);
    if (digest === undefined) {
      digest = createHash("sha256").update(text).digest("hex");
      if (this.digests.size >= MEMO_LIMIT) this.digests.clear();
      this.digests.set(text, digest);
    }
    return digest;
  }

  static learning(): Learned {
    return { parties: new Map(), contexts: new Map() };
  }

  /** Caches ids from a committed transaction. */
  commit(learned: Learned): void {
    for (const [k, v] of learned.parties) this.parties.set(k, v);
    for (const [k, v] of learned.contexts) this.contexts.set(k, v);
  }
}
