/**
 * Walks the hash chain (see record.ts for what each hash covers) and reports
 * the first broken link. A purged record has no content left to hash, so its
 * stored hash is taken as given, but only if a recorded purge owns it. The
 * head hash is reported so it can be kept outside the database: that is what
 * detects the newest records being cut off.
 */
import { chainHash, GENESIS } from "./record.js";
import type { ArchiveStore } from "./store.js";

export interface VerifyResult {
  ok: boolean;
  checked: number;
  purged: number;
  head: { seq: number; hash: string } | undefined;
  broken: { seq: number; reason: string } | undefined;
}

export async function verifyChain(store: ArchiveStore, onProgress?: (checked: number) => void): Promise<VerifyResult> {
  const purges = new Set((await store.purges()).map((p) => p.id));
  let prev: Buffer = GENESIS;
  let expected = 1;
  let checked = 0;
  let purged = 0;
  let head: VerifyResult["head"];
  const result = (broken?: VerifyResult["broken"]): VerifyResult => ({ ok: !broken, checked, purged, head, broken });
  for (;;) {
    const page = await store.chain(expected - 1, 1000);
    if (page.length === 0) break;
    for (const link of page) {
      if (link.seq !== expected) return result({ seq: expected, reason: `record ${expected} is missing (next stored is ${link.seq})` });
      if (link.purgeId === null) {
        if (!chainHash(prev, link.seq, link).equals(link.hash)) {
          return result({ seq: link.seq, reason: "hash mismatch: this record or its stored hash was altered" });
        }
      } else if (!purges.has(link.purgeId)) {
        return result({ seq: link.seq, reason: `content removed by purge ${link.purgeId}, which is not recorded` });
      } else {
        purged++;
      }
      prev = link.hash;
      head = { seq: link.seq, hash: link.hash.toString("hex") };
      expected++;
      checked++;
    }
    onProgress?.(checked);
  }
  return result();
}
