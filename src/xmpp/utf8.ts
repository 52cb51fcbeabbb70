/**
 * Incremental strict UTF-8 decoding for XMPP streams (RFC 6120 section 11.6:
 * UTF-8 only; an invalid sequence is not-well-formed). Unlike TextDecoder,
 * which throws for a whole chunk, this hands back the valid text before the
 * first bad byte, so the stanzas that precede it are delivered the same way
 * whether or not the bad byte shares their chunk.
 */
import { isUtf8 } from "node:buffer";

/** Expected continuation count for a lead byte, or -1 when it cannot start a sequence. */
function seqLength(b: number): number {
  if (b < 0x80) return 1;
  if (b >= 0xc2 && b <= 0xdf) return 2;
  if (b >= 0xe0 && b <= 0xef) return 3;
  if (b >= 0xf0 && b <= 0xf4) return 4;
  return -1;
}

/** RFC 3629 section 4: the allowed range of the byte after a lead (no overlongs, surrogates or > U+10FFFF). */
function secondOk(lead: number, b: number): boolean {
  if (lead === 0xe0) return b >= 0xa0 && b <= 0xbf;
  if (lead === 0xed) return b >= 0x80 && b <= 0x9f;
  if (lead === 0xf0) return b >= 0x90 && b <= 0xbf;
  if (lead === 0xf4) return b >= 0x80 && b <= 0x8f;
  return b >= 0x80 && b <= 0xbf;
}

/** Length of the valid prefix of `b`, counting an unfinished but so far valid sequence at the end as valid. */
function validPrefix(b: Uint8Array): number {
  let i = 0;
  while (i < b.length) {
    const need = seqLength(b[i]!);
    if (need < 0) return i;
    for (let k = 1; k < need; k++) {
      if (i + k >= b.length) return b.length;
      const c = b[i + k]!;
      if (k === 1 ? !secondOk(b[i]!, c) : c < 0x80 || c > 0xbf) return i;
    }
    i += need;
  }
  return i;
}

/** How many bytes at the end of `b` start a sequence that the next chunk may finish (0 to 3). */
function unfinishedTail(b: Uint8Array): number {
  for (let k = 1; k <= 3 && k <= b.length; k++) {
    const lead = b[b.length - k]!;
    if (lead >= 0x80 && lead <= 0xbf) continue;
    const need = seqLength(lead);
    if (need <= k) return 0;
    // A sequence that is already wrong is not held back: it fails now, as it would with its last byte.
    return k === 1 || secondOk(lead, b[b.length - k + 1]!) ? k : 0;
  }
  return 0;
}

export class Utf8Stream {
  private tail: Buffer = EMPTY;

  /** Bytes of an unfinished sequence held for the next chunk. */
  get held(): number {
    return this.tail.length;
  }

  /** Set by decode: every character of the text is ASCII, so its length is its byte count. */
  ascii = false;
  /** Set by decode: the text holds none of the C0 controls XML 1.0 forbids (when false: unknown). */
  clean = false;
  /** Set by decode: an invalid sequence follows the text; the stream is not well-formed. */
  invalid = false;

  /** Decodes what of the chunk is complete; the flags above describe the result. */
  decode(chunk: Buffer): string {
    this.invalid = false;
    // Small clean ASCII chunks (a sender trickling bytes) skip the native calls, whose fixed cost dominates there.
    if (this.tail.length === 0 && chunk.length <= 32) {
      let plain = true;
      for (let i = 0; i < chunk.length && plain; i++) {
        const b = chunk[i]!;
        plain = b < 0x80 && (b >= 0x20 || b === 0x09 || b === 0x0a || b === 0x0d);
      }
      if (plain) {
        this.ascii = this.clean = true;
        return chunk.length === 1 ? String.fromCharCode(chunk[0]!) : String.fromCharCode.apply(null, chunk as unknown as number[]);
      }
    }
    this.clean = false;
    const data = this.tail.length ? Buffer.concat([this.tail, chunk]) : chunk;
    const keep = unfinishedTail(data);
    const body = data.subarray(0, data.length - keep);
    if (isUtf8(body)) {
      this.tail = keep ? Buffer.from(data.subarray(data.length - keep)) : EMPTY;
      const text = body.toString("utf8");
      this.ascii = text.length === body.length;
      return text;
    }
    // Only on the error path: find where the text stops being UTF-8.
    const ok = validPrefix(data);
    this.tail = EMPTY;
    this.ascii = false;
    this.invalid = ok < data.length;
    return data.subarray(0, ok).toString("utf8");
  }
}

const EMPTY = Buffer.alloc(0);
