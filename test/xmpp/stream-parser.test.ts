import { describe, expect, it } from "vitest";
import { XmppStreamParser } from "../../src/xmpp/stream-parser.js";
import type { StreamError } from "../../src/xmpp/errors.js";
import type { Element } from "../../src/xmpp/xml.js";

const HEADER =
  "<?xml version='1.0'?><stream:stream xmlns='jabber:server' xmlns:stream='http://etherx.jabber.org/streams' " +
  "xmlns:db='jabber:server:dialback' from='partner-a.test' to='corp.test' version='1.0'>";

function run(chunks: (string | Buffer)[], opts = {}) {
  const p = new XmppStreamParser(opts);
  const out = { starts: [] as Record<string, string>[], stanzas: [] as Element[], ended: false, errors: [] as StreamError[] };
  p.on("streamStart", (a) => out.starts.push(a));
  p.on("stanza", (el) => out.stanzas.push(el));
  p.on("streamEnd", () => (out.ended = true));
  p.on("error", (e) => out.errors.push(e));
  for (const c of chunks) p.write(typeof c === "string" ? Buffer.from(c) : c);
  return { p, ...out };
}

describe("XmppStreamParser", () => {
  it("parses a header, stanzas and the end of the stream", () => {
    const r = run([HEADER, "<message to='bob@corp.test' from='alice@partner-a.test'><body>hi &amp; bye</body></message>", " ", "<presence/>", "</stream:stream>"]);
    expect(r.errors).toEqual([]);
    expect(r.starts[0]!.from).toBe("partner-a.test");
    expect(r.stanzas.map((s) => s.name)).toEqual(["message", "presence"]);
    expect(r.stanzas[0]!.getChildText("body")).toBe("hi & bye");
    expect(r.stanzas[0]!.parent).toBeNull();
    expect(r.ended).toBe(true);
  });

  it("reassembles stanzas and multi-byte characters split across chunks at every byte", () => {
    const doc = Buffer.from(HEADER + "<message><body>héllo 😀 <![CDATA[<x> ]] ]]></body></message>");
    const chunks: Buffer[] = [];
    for (let i = 0; i < doc.length; i++) chunks.push(doc.subarray(i, i + 1));
    const r = run(chunks);
    expect(r.errors).toEqual([]);
    expect(r.stanzas[0]!.getChildText("body")).toBe("héllo 😀 <x> ]] ");
  });

  it("accepts a stream starting with whitespace and no XML declaration", () => {
    const r = run(["\n" + HEADER.replace("<?xml version='1.0'?>", ""), "<iq type='get' id='1'/>"]);
    expect(r.errors).toEqual([]);
    expect(r.stanzas).toHaveLength(1);
  });

  it.each([
    ["a DOCTYPE", "<!DOCTYPE foo [<!ENTITY x 'y'>]>" + HEADER.slice(21), "restricted-xml"],
    ["a DOCTYPE after the declaration", "<?xml version='1.0'?><!DOCTYPE stream>" + HEADER.slice(21), "restricted-xml"],
    ["a comment", HEADER + "<message><!-- hidden --><body>x</body></message>", "restricted-xml"],
    ["a processing instruction", HEADER + "<message><?php evil() ?></message>", "restricted-xml"],
    ["a second XML declaration", HEADER + "<?xml version='1.0'?>", "restricted-xml"],
    ["a stylesheet PI before the header", "<?xml-stylesheet href='x'?>" + HEADER.slice(21), "restricted-xml"],
    ["an unknown entity", HEADER + "<message><body>&lol;</body></message>", "not-well-formed"],
    ["a character reference to NUL", HEADER + "<message><body>&#0;</body></message>", "not-well-formed"],
    ["a raw control character", HEADER + "<message><body>\u0001</body></message>", "not-well-formed"],
    ["mismatched tags", HEADER + "<message><body>x</message>", "not-well-formed"],
    ["a '<' in an attribute", HEADER + "<message to='a<b'/>", "not-well-formed"],
    ["a wrong stream namespace", "<stream:stream xmlns:stream='urn:wrong'>", "invalid-namespace"],
    ["a wrong stream prefix", "<s:stream xmlns:s='http://etherx.jabber.org/streams'>", "bad-namespace-prefix"],
    ["a root that is not a stream", "<html>", "invalid-namespace"],
  ])("ends the stream on %s", (_what, input, condition) => {
    const r = run([input]);
    expect(r.errors.map((e) => e.condition)).toEqual([condition]);
  });

  it("reports a DOCTYPE split across chunks", () => {
    const r = run([HEADER + "<", "!", "DOC", "TYPE x>"]);
    expect(r.errors.map((e) => e.condition)).toEqual(["restricted-xml"]);
  });

  it("refuses invalid UTF-8, also when the bad byte arrives in a later chunk", () => {
    const r = run([HEADER + "<message><body>", Buffer.from([0xc3]), Buffer.from([0x28])]);
    expect(r.errors.map((e) => e.condition)).toEqual(["not-well-formed"]);
    expect(r.errors[0]!.text).toMatch(/UTF-8/);
  });

  it("caps a stanza at maxStanzaBytes and stops before buffering the rest", () => {
    const p = new XmppStreamParser({ maxStanzaBytes: 1024 });
    const errors: StreamError[] = [];
    p.on("error", (e) => errors.push(e));
    p.write(Buffer.from(HEADER + "<message><body>"));
    let written = 0;
    for (let i = 0; i < 160 && errors.length === 0; i++) {
      p.write(Buffer.alloc(64 * 1024, "a"));
      written++;
    }
    expect(errors.map((e) => e.condition)).toEqual(["policy-violation"]);
    expect(written).toBe(1);
    expect(p.closed).toBe(true);
  });

  it("counts bytes per stanza, not per stream", () => {
    const stanza = `<message><body>${"x".repeat(900)}</body></message>`;
    const r = run([HEADER, ...Array.from({ length: 20 }, () => stanza)], { maxStanzaBytes: 1024 });
    expect(r.errors).toEqual([]);
    expect(r.stanzas).toHaveLength(20);
  });

  it("caps a flood of text without any '<'", () => {
    const r = run([HEADER, " ".repeat(2000)], { maxStanzaBytes: 1024 });
    expect(r.errors.map((e) => e.condition)).toEqual(["policy-violation"]);
  });

  it("limits nesting depth", () => {
    const r = run([HEADER + "<message>" + "<a>".repeat(100)], { maxDepth: 32 });
    expect(r.errors.map((e) => e.condition)).toEqual(["policy-violation"]);
  });

  it("starts over after reset(), for TLS and SASL restarts, dropping events of the old stream", () => {
    const p = new XmppStreamParser();
    const names: string[] = [];
    let starts = 0;
    p.on("streamStart", () => starts++);
    p.on("stanza", (el) => {
      names.push(el.name);
      if (el.name === "starttls") p.reset();
    });
    p.write(Buffer.from(HEADER + "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/><message/>"));
    p.write(Buffer.from(HEADER + "<presence/>"));
    expect(starts).toBe(2);
    expect(names).toEqual(["starttls", "presence"]);
  });

  it("ignores input after an error", () => {
    const r = run([HEADER + "<!-- x -->", "<message/>"]);
    expect(r.errors).toHaveLength(1);
    expect(r.stanzas).toHaveLength(0);
  });
});
