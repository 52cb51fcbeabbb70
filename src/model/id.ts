/**
 * Envelope ids: random (version 4) UUIDs, as crypto.randomUUID makes them,
 * from the same CSPRNG and with the same 122 random bits. Node builds each
 * of its UUIDs from some twenty string concatenations, about 600 bytes of
 * garbage per id, and every message takes one; here the text is written as
 * bytes and read out as one string.
 */
import { randomFillSync } from "node:crypto";

/** Random bytes drawn a page at a time (one CSPRNG call per id costs more than the id); each byte is used once. */
const pool = Buffer.allocUnsafe(4096);
let at = pool.length;
/** Where the text is put together: filled in whole each time, and only ever used synchronously. */
const text = Buffer.allocUnsafe(36);
/** The two ASCII hex digits of each byte value. */
const HEX = Buffer.from(Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, "0")).join(""), "latin1");
/** Where each of the 16 bytes goes in xxxxxxxx-xxxx-4xxx-Vxxx-xxxxxxxxxxxx. */
const SLOT = [0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34];
const DASH = 0x2d;
text[8] = text[13] = text[18] = text[23] = DASH;

/** A random UUID (RFC 9562 version 4), in its usual lower-case form. */
export function newId(): string {
  if (at + 16 > pool.length) {
    randomFillSync(pool);
    at = 0;
  }
  for (let i = 0; i < 16; i++) {
    let b = pool[at + i]!;
    if (i === 6) b = (b & 0x0f) | 0x40;
    else if (i === 8) b = (b & 0x3f) | 0x80;
    const s = SLOT[i]!;
    text[s] = HEX[2 * b]!;
    text[s + 1] = HEX[2 * b + 1]!;
  }
  at += 16;
  return text.toString("latin1", 0, 36);
}
