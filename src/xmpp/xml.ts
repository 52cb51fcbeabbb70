/**
 * Typed access to @xmpp/xml (ltx), which ships no declarations. Everything in
 * the XMPP edge imports elements, the builder and the serialiser from here.
 * Inbound stanzas are built by xml-tree.ts; ltx's own parser (Parser) stays
 * exported as the reference the tests and benchmarks hold it to.
 */
// @ts-ignore -- the package has no type declarations; the shapes below are the ones ltx 3 implements
import * as pkg from "@xmpp/xml";

export type Attrs = Record<string, string>;
export type Node = Element | string;

export interface Element {
  name: string;
  attrs: Attrs;
  children: Node[];
  parent: Element | null;
  is(name: string, xmlns?: string): boolean;
  getName(): string;
  getNS(): string | undefined;
  attr(name: string): string | undefined;
  attr(name: string, value: string | null): Element;
  getChild(name: string, xmlns?: string): Element | undefined;
  getChildren(name: string, xmlns?: string): Element[];
  getChildElements(): Element[];
  getChildText(name: string, xmlns?: string): string | null;
  getText(): string;
  c(name: string, attrs?: Attrs): Element;
  t(text: string): Element;
  up(): Element;
  append(...nodes: Node[]): Element;
  remove(el: Element | string, xmlns?: string): Element;
  toString(): string;
  write(writer: (s: string) => void): void;
}

interface ElementClass {
  new (name: string, attrs?: Attrs): Element;
}

/** The streaming SAX-to-tree parser: "start" (root), "element" (each top-level child), "end", "error". */
export interface LtxStreamParser {
  root: Element | null;
  cursor: Element | null;
  write(data: string): void;
  on(event: "start" | "element" | "end", fn: (el: Element) => void): this;
  on(event: "error", fn: (err: Error) => void): this;
  removeAllListeners(): this;
}

const mod = pkg as unknown as {
  Element: ElementClass;
  Parser: new () => LtxStreamParser;
  escapeXML: (s: string) => string;
  escapeXMLText: (s: string) => string;
  unescapeXML: (s: string) => string;
};

export const Element: ElementClass = mod.Element;
export const Parser = mod.Parser;
type Child = Node | Node[] | undefined | null | false | "";

/**
 * Element builder: xml("message", { to }, xml("body", {}, text)). Undefined
 * attributes are left out, arrays of children are flattened and empty ones
 * skipped, as ltx's createElement does; unlike it, the defined attributes are
 * copied instead of the undefined ones deleted from the caller's object (a
 * delete turns it into a slow dictionary), no entry arrays are made and the
 * argument array becomes the child list: this runs for every element of
 * every stanza rendered.
 */
export function xml(name: string, attrs?: Record<string, string | undefined> | null, ...children: Child[]): Element {
  const el = element(name, attrs);
  if (children.every(isNode)) {
    // The usual case: the argument array is the child list as it is, so no second array grows child by child.
    el.children = children as Node[];
    for (const c of children) if (typeof c === "object") (c as Element).parent = el;
  } else {
    for (const c of children) append(el, c);
  }
  return el;
}

/** An element with the given children, taking the array itself as its child list (renderers build one). */
export function xmlWith(name: string, attrs: Record<string, string | undefined> | null, children: Element[]): Element {
  const el = element(name, attrs);
  el.children = children;
  for (const c of children) c.parent = el;
  return el;
}

function element(name: string, attrs: Record<string, string | undefined> | null | undefined): Element {
  const el = new mod.Element(name);
  if (attrs) {
    const a = el.attrs;
    for (const k in attrs) {
      const v = attrs[k];
      if (v != null) a[k] = typeof v === "string" ? v : String(v);
    }
  }
  return el;
}

function isNode(c: Child): boolean {
  return typeof c === "object" ? c !== null && !Array.isArray(c) : c !== undefined && c !== false && c !== "";
}

function append(el: Element, c: Child): void {
  if (c === undefined || c === null || c === false || c === "") return;
  if (Array.isArray(c)) {
    for (const x of c) append(el, x);
    return;
  }
  el.children.push(c);
  if (typeof c === "object") c.parent = el;
}

export const escapeXML = mod.escapeXML;
export const escapeXMLText = mod.escapeXMLText;
/** Entity and character references decoded as ltx's parser does; throws on an undeclared entity or an illegal character. */
export const unescapeXML = mod.unescapeXML;

/** The position of the first character that needs escaping (& < > always, quotes in attribute values), or -1. */
function firstSpecial(s: string, quotes: boolean): number {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x26 || c === 0x3c || c === 0x3e || (quotes && (c === 0x22 || c === 0x27))) return i;
  }
  return -1;
}

/** Escaping as ltx does it, without a regular expression pass over text that has nothing to escape (most of it). */
function escAttr(s: string): string {
  return firstSpecial(s, true) < 0 ? s : mod.escapeXML(s);
}

function escText(s: string): string {
  return firstSpecial(s, false) < 0 ? s : mod.escapeXMLText(s);
}

/**
 * The XML text of an element, character for character what ltx's toString()
 * gives, without a writer callback per fragment and without running the
 * escaping regular expressions over text that has nothing to escape: every
 * stanza written to a socket goes through here.
 */
export function serialize(el: Element): string {
  let out = "<" + el.name;
  const attrs = el.attrs;
  for (const k in attrs) {
    const v = attrs[k] as unknown;
    if (v != null) out += " " + k + '="' + escAttr(typeof v === "string" ? v : String(v)) + '"';
  }
  const children = el.children;
  if (children.length === 0) return out + "/>";
  out += ">";
  for (const c of children as unknown[]) {
    if (c == null) continue;
    if (typeof c === "string") out += escText(c);
    else if (typeof (c as Element).write === "function") out += serialize(c as Element);
    else out += escText(String(c));
  }
  return out + "</" + el.name + ">";
}

/** getChild(name, xmlns) !== undefined, without the array getChildren builds: asked of every stanza. */
export function hasChild(el: Element, name: string, xmlns: string): boolean {
  for (const c of el.children) if (typeof c === "object" && c.getName() === name && c.getNS() === xmlns) return true;
  return false;
}
