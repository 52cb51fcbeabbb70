/**
 * Regressions for the XML stream guard (issue: front doors that fuzzing
 * cannot break): each case once depended on where a chunk ended, let
 * restricted XML through, cut a normal partner, or cost quadratic time.
 */
import { describe, expect, it } from "vitest";
import { XmppStreamParser } from "../../src/xmpp/stream-parser.js";
import { bestMs } from "../helpers/timing.js";
import { xmpp } from "../fuzz/targets.js";

const HEADER =
  "<?xml version='1.0'?><stream:stream xmlns='jabber:server' xmlns:stream='http://etherx.jabber.org/streams' " +
  "xmlns:db='jabber:server:dialback' from='partner-a.test' to='corp.test' version='1.0'>";

function run(chunks: (string | Buffer)[], opts = {}) {
  const p = new XmppStreamParser(opts);
  const out = { stanzas: [] as string[], errors: [] as string[] };
  p.on("stanza", (el) => out.stanzas.push(el.toString()));
  p.on("error", (e) => out.errors.push(e.condition));
  for (const c of chunks) p.write(typeof c === "string" ? Buffer.from(c, "utf8") : c);
  return out;
}

/** The outcome for every way of cutting the input in two, plus byte by byte, plus whole. */
function outcomes(input: Buffer): Set<string> {
  const seen = new Set<string>();
  const all = [[], Array.from({ length: input.length }, (_, k) => k), ...Array.from({ length: input.length }, (_, k) => [k])];
  for (const cuts of all) seen.add(JSON.stringify(xmpp.run(input, cuts).events));
  return seen;
}

describe("XML stream guard: a '<' at the end of a chunk", () => {
  it.each([
    ["a comment", "!-- c -->"],
    ["a processing instruction", "?pi x?>"],
  ])("refuses %s whose '<' ends the previous write (restricted-xml)", (_what, rest) => {
    expect(run([HEADER + "\n<", rest]).errors).toEqual(["restricted-xml"]);
    expect(run([HEADER + "\n<" + rest]).errors).toEqual(["restricted-xml"]);
  });

  it("keeps the depth right when a write ends in '<', so a partner is not cut 256 KiB later", () => {
    const stanza = `<message to='bob@corp.test' from='alice@partner-a.test'><body>${"x".repeat(1000)}</body></message>`;
    const chunks = [HEADER, "<message><body>hi<", "/body></message>", ...Array.from({ length: 300 }, () => stanza)];
    const r = run(chunks);
    expect(r.errors).toEqual([]);
    expect(r.stanzas).toHaveLength(301);
  });
});

describe("XML stream guard: the same verdict however the input is split", () => {
  it("'<s?></>' is not-well-formed whole, split at every byte, and byte by byte", () => {
    const seen = outcomes(Buffer.from("<s?></>"));
    expect([...seen]).toHaveLength(1);
    expect([...seen][0]).toMatch(/error not-well-formed/);
  });

  it("'<?mlo3\\xae' gives one condition for every split", () => {
    const seen = outcomes(Buffer.from("<?mlo3\xae", "latin1"));
    expect([...seen]).toEqual([JSON.stringify(["error restricted-xml: processing instructions are not allowed"])]);
  });

  it("delivers the stanzas before an invalid byte or character whether or not they share its chunk", () => {
    for (const bad of [Buffer.from([0xff]), Buffer.from([0x01])]) {
      const input = Buffer.concat([Buffer.from(HEADER + "<presence/><message><body>ok</body></message>"), bad]);
      const seen = outcomes(input);
      expect([...seen]).toHaveLength(1);
      const events = JSON.parse([...seen][0]!) as string[];
      expect(events.filter((e) => e.startsWith("stanza"))).toHaveLength(2);
      expect(events.at(-1)).toMatch(/^error not-well-formed/);
    }
  });

  it.each([
    ["an attribute without '='", "<message><a b>text='x</a></message>"],
    ["a '!' inside an element name", "<message><a!b>x</a!b></message>"],
  ])("refuses %s, which ltx swallowed with the rest of the stanza", (_what, stanza) => {
    expect(run([HEADER + stanza + "<presence/>"]).errors).toEqual(["not-well-formed"]);
  });
});

describe("XML stream guard: text before the stream header (RFC 6120 4.9.3.13)", () => {
  it("closes with not-well-formed at the first byte of an HTTP request, whole or trickled", () => {
    expect(run(["GET / HTTP/1.1\r\nHost: corp.test\r\n\r\n"]).errors).toEqual(["not-well-formed"]);
    expect(run(["G"]).errors).toEqual(["not-well-formed"]);
  });

  it("still accepts whitespace and a byte order mark before the header", () => {
    expect(run(["\ufeff \r\n\t" + HEADER, "<presence/>"])).toEqual({ stanzas: [expect.stringMatching(/^<presence/)], errors: [] });
  });
});

describe("XML stream guard: linear time", () => {
  const big = (size: number) => Buffer.from(`<message><body>${"y".repeat(size - 32)}</body></message>`);
  const parse = (chunks: Buffer[]) => () => {
    const p = new XmppStreamParser({ maxStanzaBytes: 1 << 20 });
    let stanzas = 0;
    p.on("stanza", () => stanzas++);
    p.write(Buffer.from(HEADER));
    for (const c of chunks) p.write(c);
    if (stanzas !== 1) throw new Error("the stanza did not come out");
  };
  const split = (b: Buffer, step: number) => Array.from({ length: Math.ceil(b.length / step) }, (_, k) => b.subarray(k * step, (k + 1) * step));

  it("parses a 64 KiB stanza written a byte at a time in under 10 ms", () => {
    expect(bestMs(parse(split(big(65_536), 1)))).toBeLessThan(10);
  });

  it("parses a 256 KiB stanza in 16-byte writes in under 10 ms", () => {
    expect(bestMs(parse(split(big(262_144), 16)))).toBeLessThan(10);
  });
});
