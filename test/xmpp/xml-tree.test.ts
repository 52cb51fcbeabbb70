/**
 * The elements the stream parser builds (xml-tree.ts) against the ones ltx's
 * own parser builds from the same text: names, attribute objects (key order
 * included), child strings and nesting must be identical, and an entity or
 * character reference ltx refuses must fail the stream.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
// The oracle: ltx's own parser, which the stream parser used before.
import LtxParser from "@xmpp/xml/lib/Parser.js";
import { XmppStreamParser } from "../../src/xmpp/stream-parser.js";
import { Element } from "../../src/xmpp/xml.js";

const HEADER = `<stream:stream xmlns='jabber:server' xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>`;

interface Shape {
  name: string;
  attrs: [string, string][];
  children: Shape[];
}

function shape(el: Element): unknown {
  expect(el).toBeInstanceOf(Element);
  return {
    name: el.name,
    attrs: Object.entries(el.attrs),
    keys: Object.keys(el.attrs),
    children: el.children.map((c) => (typeof c === "string" ? c : shape(c))),
  };
}

function ours(text: string, split: number): { stanzas: unknown[]; error?: string } {
  const p = new XmppStreamParser();
  const stanzas: unknown[] = [];
  let error: string | undefined;
  p.on("stanza", (el) => {
    expect(el.parent).toBeNull();
    stanzas.push(shape(el));
  });
  p.on("error", (err: Error) => (error = err.message));
  const bytes = Buffer.from(text);
  for (let i = 0; i < bytes.length; i += split) p.write(bytes.subarray(i, i + split));
  return { stanzas, error };
}

function theirs(text: string): { stanzas: unknown[]; error?: string } {
  const p = new LtxParser();
  const stanzas: unknown[] = [];
  let error: string | undefined;
  p.on("element", (raw) => {
    const el = raw as unknown as Element;
    el.parent = null;
    stanzas.push(shape(el));
  });
  try {
    p.write(text);
  } catch (err) {
    error = (err as Error).message;
  }
  return { stanzas, error };
}

const name = fc.stringMatching(/^[a-z][a-z0-9_.-]{0,6}(:[a-z][a-z0-9]{0,4})?$/);
const refs = fc.constantFrom("&amp;", "&lt;", "&gt;", "&quot;", "&apos;", "&#65;", "&#x1F600;", "&#xe9;", " & ", "&#0;", "&nbsp;", "&#xD800;");
const plain = fc.stringMatching(/^[^<&\]>]{0,8}$/);
const chars = fc.array(fc.oneof(plain, refs), { maxLength: 4 }).map((a) => a.join(""));
const attrs = fc.uniqueArray(fc.tuple(name, chars, fc.constantFrom('"', "'"), fc.constantFrom("=", " = ", "\n=\t")), { maxLength: 4, selector: (a) => a[0] });

/** An element's text: names, attributes with either quote and space around '=', text with references, CDATA (then a tag: ltx drops text after it). */
const element: fc.Memo<string> = fc.memo((depth) =>
  fc
    .tuple(
      name,
      attrs,
      fc.array(fc.oneof(chars, chars, chars, chars.map((c) => `<![CDATA[${c.replace(/&/g, "<&")}]]><x/>`), ...(depth > 1 ? [element(depth - 1), element(depth - 1)] : [])), { maxLength: 4 }),
      fc.boolean(),
      fc.constantFrom("", " ", "\n"),
    )
    .map(([n, as, kids, selfClose, sp]) => {
      const open = `<${n}${as.map(([k, v, q, eq]) => ` ${k}${eq}${q}${q === '"' ? v.replace(/"/g, "&quot;") : v.replace(/'/g, "&apos;")}${q}`).join("")}${sp}`;
      return kids.length === 0 && selfClose ? `${open}/>` : `${open}>${kids.join("")}</${n}${sp}>`;
    }),
);

describe("stream parser element trees", () => {
  it("are the trees ltx's parser builds from the same text, however it is split", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.constantFrom("", "\n", " \t"), element(4)), { minLength: 1, maxLength: 5 }), fc.integer({ min: 1, max: 64 }), (units, split) => {
        const text = HEADER + units.map(([ws, el]) => ws + el).join("");
        const want = theirs(text);
        const got = ours(text, split);
        expect(got.stanzas).toEqual(want.stanzas);
        expect(got.error !== undefined).toBe(want.error !== undefined);
      }),
      { numRuns: 3000 },
    );
  });

  it("keeps the text after a CDATA section, which ltx drops", () => {
    const got = ours(`${HEADER}<message><body>a<![CDATA[<b>]]>c &amp; d</body></message>`, 1000);
    expect(got.error).toBeUndefined();
    expect(got.stanzas).toEqual([{ name: "message", attrs: [], keys: [], children: [{ name: "body", attrs: [], keys: [], children: ["a", "<b>", "c & d"] }] }]);
  });

  it("refuses an undeclared entity between stanzas, as ltx did", () => {
    const got = ours(`${HEADER}<message/> &bogus; <message/>`, 1000);
    expect(got.stanzas.length).toBe(1);
    expect(got.error).toContain("undeclared entity reference");
  });
});
