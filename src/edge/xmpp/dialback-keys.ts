/**
 * Dialback keys, XEP-0185 section 3 (as RFC 6120 and XEP-0220 section 2.1.2
 * recommend): key = HEX( HMAC-SHA256( SHA256(secret), receiving + " " +
 * originating + " " + streamId ) ). The authoritative server recomputes the
 * key from what a verify request carries, so it keeps no per-stream state.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from "node:crypto";

export function dialbackKey(secret: string, receiving: string, originating: string, streamId: string): string {
  const k = createHash("sha256").update(secret, "utf8").digest("hex");
  return createHmac("sha256", k).update(`${receiving.toLowerCase()} ${originating.toLowerCase()} ${streamId}`, "utf8").digest("hex");
}

export function verifyDialbackKey(secret: string, receiving: string, originating: string, streamId: string, key: string): boolean {
  const expected = Buffer.from(dialbackKey(secret, receiving, originating, streamId));
  const given = Buffer.from(key.trim().toLowerCase());
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** XEP-0185 section 4: a secret of enough entropy when the operator sets none. */
export function randomSecret(): string {
  return randomBytes(32).toString("hex");
}
