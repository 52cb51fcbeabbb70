import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { batchedWrite, flushNow, heldLength } from "../../src/xmpp/write-batch.js";

/** A socket stand-in that records each write it is given. */
function recorder() {
  const writes: string[] = [];
  const w = new Writable({
    write(chunk: Buffer, _enc, cb) {
      writes.push(chunk.toString());
      cb();
    },
  });
  return { w, writes };
}

const nextRound = () => new Promise<void>((r) => setImmediate(r));

describe("write batching", () => {
  it("sends what a socket is given in one round as one write, in order, each socket its own", async () => {
    const a = recorder();
    const b = recorder();
    batchedWrite(a.w, "<one/>");
    batchedWrite(b.w, "<x/>");
    batchedWrite(a.w, "<two/>");
    expect(a.writes).toEqual([]);
    expect(heldLength(a.w)).toBe("<one/><two/>".length);
    await nextRound();
    expect(a.writes).toEqual(["<one/><two/>"]);
    expect(b.writes).toEqual(["<x/>"]);
    expect(heldLength(a.w)).toBe(0);
    batchedWrite(a.w, "<three/>");
    await nextRound();
    expect(a.writes).toEqual(["<one/><two/>", "<three/>"]);
  });

  it("flushes at once when asked, and drops the text of a socket that closed before the round ended", async () => {
    const a = recorder();
    batchedWrite(a.w, "<proceed/>");
    flushNow(a.w);
    expect(a.writes).toEqual(["<proceed/>"]);
    const gone = recorder();
    batchedWrite(gone.w, "<late/>");
    gone.w.destroy();
    await nextRound();
    expect(gone.writes).toEqual([]);
    expect(a.writes).toEqual(["<proceed/>"]);
  });
});
