import { describe, expect, it } from "vitest";
import { entryBytes, textsOf } from "../../src/archive/sink.js";

describe("archive sink: entries packed for a thread", () => {
  it("packs payloads, held texts and values into one buffer and gets the same texts back", () => {
    const texts = ['{"a":"plain"}', '{"b":"ünïcödé ✓ 𝄞"}', "", '{"c":[1,2,3]}'];
    const entries = [
      { payload: Buffer.from(texts[0]!), end: { segment: 1, offset: 10 } },
      { value: texts[1], end: { segment: 1, offset: 20 } },
      { payload: Buffer.alloc(0), end: { segment: 1, offset: 28 } },
      { value: { c: [1, 2, 3] }, end: { segment: 2, offset: 8 } },
    ];
    const { bytes, lengths, buffer } = entryBytes(entries);
    expect(bytes.buffer).toBe(buffer);
    expect(buffer.byteLength).toBe(lengths.reduce((a, b) => a + b, 0));
    expect(textsOf(new Uint8Array(buffer), lengths)).toEqual(texts);
  });

  it("reads a view that starts inside a larger buffer", () => {
    const { bytes, lengths } = entryBytes([{ payload: Buffer.from("xyz"), end: { segment: 1, offset: 11 } }]);
    const wider = Buffer.concat([Buffer.from("junk"), bytes]);
    expect(textsOf(wider.subarray(4), lengths)).toEqual(["xyz"]);
  });
});
