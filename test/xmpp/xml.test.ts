import { describe, expect, it } from "vitest";
import fc from "fast-check";
// @ts-ignore -- the package has no type declarations
import { createElement } from "@xmpp/xml";
import { Element, hasChild, serialize, xml, type Node } from "../../src/xmpp/xml.js";

type Tree = { name: string; attrs: Record<string, string | undefined>; children: (Tree | string)[] };

const names = fc.constantFrom("message", "body", "x", "stream:error", "a-b", "c");
// Text with every character the escapers care about, and some that they do not.
const texts = fc.string({ unit: fc.constantFrom("a", " ", "&", "<", ">", "\"", "'", "é", "\u{1F600}", ";", "#") });
const tree: fc.Arbitrary<Tree> = fc.letrec<{ node: Tree }>((tie) => ({
  node: fc.record({
    name: names,
    attrs: fc.dictionary(fc.constantFrom("to", "from", "id", "xmlns", "type"), fc.option(texts, { nil: undefined })),
    children: fc.array(fc.oneof({ depthSize: "small" }, texts, tie("node")), { maxLength: 4 }),
  }),
})).node;

const ours = (t: Tree): Element => xml(t.name, { ...t.attrs }, ...t.children.map((c) => (typeof c === "string" ? c : ours(c))));
const ltx = (t: Tree): Element => createElement(t.name, { ...t.attrs }, ...t.children.map((c) => (typeof c === "string" ? c : ltx(c))));

describe("xml builder and serializer", () => {
  it("build the same elements as ltx's createElement and write what its toString() writes", () => {
    fc.assert(
      fc.property(tree, (t) => {
        const a = ours(t);
        const b = ltx(t);
        expect(a.toString()).toBe(b.toString());
        expect(serialize(a)).toBe(b.toString());
        expect(a.attrs).toEqual(b.attrs);
      }),
      { numRuns: 500 },
    );
  });

  it("leaves out empty children, flattens arrays, links parents and keeps the caller's attributes as they were", () => {
    const attrs = { to: "b@corp.test", type: undefined };
    const child = xml("body", {}, "hi");
    const el = xml("message", attrs, undefined, "", [child, xml("x")], null, false);
    expect(attrs).toEqual({ to: "b@corp.test", type: undefined });
    expect(el.children.map((c: Node) => (typeof c === "string" ? c : c.name))).toEqual(["body", "x"]);
    expect(child.parent).toBe(el);
    expect(serialize(el)).toBe('<message to="b@corp.test"><body>hi</body><x/></message>');
  });

  it("writes elements that came from the parser and were changed afterwards", () => {
    const el = new Element("iq", { type: "get" });
    el.c("query", { xmlns: "jabber:iq:version" }).t("a<b & 'c'");
    el.attrs.to = "x\"y";
    expect(serialize(el)).toBe(el.toString());
  });

  it("hasChild answers as getChild does, namespaces inherited from the parent and prefixes included", () => {
    const oob = "jabber:x:oob";
    const cases = [
      xml("message", {}, xml("x", { xmlns: oob })),
      xml("message", { xmlns: oob }, xml("x")),
      xml("message", {}, xml("p:x", { "xmlns:p": oob })),
      xml("message", {}, xml("x", { xmlns: "jabber:x:event" }), "text"),
      xml("message", {}, xml("body", {}, "x")),
    ];
    for (const el of cases) expect(hasChild(el, "x", oob)).toBe(el.getChild("x", oob) !== undefined);
    expect(cases.map((el) => hasChild(el, "x", oob))).toEqual([true, true, true, false, false]);
  });
});
