/**
 * The stream parser over many stanzas cut at every kind of chunk boundary: a
 * chunk ending in '<' (held back for the next one) once made the guard read
 * the next tag as a new element, so depth and the stanza size count drifted
 * until a stream of small stanzas was refused as oversized.
 */
import { describe, expect, it } from "vitest";
import { XmppStreamParser } from "../../src/xmpp/stream-parser.js";

const HEADER = `<?xml version='1.0'?><stream:stream xmlns='jabber:server' xmlns:stream='http://etherx.jabber.org/streams' version='1.0' from='bank.test' to='corp.test'>`;

describe("stream parser chunking", () => {
  it.each([1, 7, 999, 1000, 7777, 65_536])("parses 5,000 stanzas written in %i-byte chunks", (size) => {
    const stanzas = Array.from({ length: 5_000 }, (_, k) => `<message from='a@bank.test' to='b@corp.test' id='m${k}'><body>m${k}</body></message>`);
    const bytes = Buffer.from(HEADER + stanzas.join(""));
    const p = new XmppStreamParser({ maxStanzaBytes: 4096 });
    const ids: string[] = [];
    const errors: string[] = [];
    p.on("stanza", (el) => ids.push(el.attrs.id!));
    p.on("error", (err: Error) => errors.push(err.message));
    for (let i = 0; i < bytes.length && errors.length === 0; i += size) p.write(bytes.subarray(i, i + size));
    expect(errors).toEqual([]);
    expect(ids.length).toBe(5_000);
    expect(ids[4_999]).toBe("m4999");
  });
});
