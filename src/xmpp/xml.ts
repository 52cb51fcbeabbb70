/**
 * Typed access to @xmpp/xml (ltx), which ships no declarations. Everything in
 * the XMPP edge imports elements, the builder and the parser from here.
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
  xml: (name: string, attrs?: Record<string, string | undefined> | null, ...children: (Node | Node[] | undefined)[]) => Element;
  escapeXML: (s: string) => string;
  escapeXMLText: (s: string) => string;
};

export const Element: ElementClass = mod.Element;
export const Parser = mod.Parser;
/** Element builder: xml("message", { to }, xml("body", {}, text)). Undefined attributes are left out. */
export const xml = mod.xml;
export const escapeXML = mod.escapeXML;
export const escapeXMLText = mod.escapeXMLText;

export function isElement(node: Node | undefined): node is Element {
  return typeof node === "object" && node !== null;
}
