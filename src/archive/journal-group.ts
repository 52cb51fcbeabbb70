/**
 * The appends waiting for one group commit: their payloads, kept as handed
 * in until the group is written, then encoded straight into the one buffer
 * that goes to disk (no frame buffer per record, no concatenation), and one
 * promise every append in the group waits on, settled by its one fdatasync.
 */
import { crc32 } from "node:zlib";
import { HEADER } from "./journal-format.js";

export class CommitGroup {
  readonly payloads: (Buffer | string)[] = [];
  /** Payload bytes of each entry; its frame is HEADER more. */
  readonly lengths: number[] = [];
  readonly values: unknown[] = [];
  /** Frame bytes of the whole group. */
  bytes = 0;
  readonly done: Promise<void>;
  resolve!: () => void;
  reject!: (e: Error) => void;

  constructor() {
    this.done = new Promise<void>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
  }

  get size(): number {
    return this.payloads.length;
  }

  /** Queues one entry; its UTF-8 length is worked out once here, for the budget and for encoding. */
  add(payload: Buffer | string, length: number, value: unknown): void {
    this.payloads.push(payload);
    this.lengths.push(length);
    this.values.push(value);
    this.bytes += HEADER + length;
  }

  /** The group's frames, [u32 length][u32 crc32][payload] each, in one buffer. */
  encode(): Buffer {
    const buf = Buffer.allocUnsafe(this.bytes);
    let at = 0;
    for (let i = 0; i < this.payloads.length; i++) {
      const p = this.payloads[i]!;
      const len = this.lengths[i]!;
      buf.writeUInt32BE(len, at);
      if (typeof p === "string") buf.write(p, at + HEADER, len, "utf8");
      else p.copy(buf, at + HEADER);
      buf.writeUInt32BE(crc32(buf.subarray(at + HEADER, at + HEADER + len)), at + 4);
      at += HEADER + len;
    }
    return buf;
  }
}
