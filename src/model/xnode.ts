/**
 * Walking and rewriting XNode trees part by part: every text node, attribute
 * value, element name and namespace is a part with a path, so compliance
 * reads all of it and redaction rewrites exactly what it matched.
 */
import type { XNode } from "./content.js";

export interface TreePart {
  /** "text", "attr" or "name" (the element's name and namespace). */
  at: "text" | "attr" | "name";
  /** Path below the tree's root: "/2/0" child indexes, then "@attr" or "#name". */
  path: string;
  text: string;
  /** The chain of elements from the root to the one holding this part. */
  elements: XNode[];
}

export function treeParts(node: XNode, out: TreePart[] = [], path = "", elements: XNode[] = []): TreePart[] {
  const chain = [...elements, node];
  out.push({ at: "name", path: `${path}#name`, text: node.ns ? `${node.ns} ${node.name}` : node.name, elements: chain });
  for (const [k, v] of Object.entries(node.attrs)) out.push({ at: "attr", path: `${path}@${k}`, text: v, elements: chain });
  node.children.forEach((c, i) => {
    if (typeof c === "string") out.push({ at: "text", path: `${path}/${i}`, text: c, elements: chain });
    else treeParts(c, out, `${path}/${i}`, chain);
  });
  return out;
}

/**
 * Rewrites a tree: `fn` gets each part and returns new text or undefined to
 * keep it. A rewritten name or namespace cannot be rendered, so that element
 * (and what it holds) is dropped: the result is undefined for the root.
 */
export function mapTree(node: XNode, fn: (p: TreePart) => string | undefined, path = "", elements: XNode[] = []): XNode | undefined {
  const chain = [...elements, node];
  if (fn({ at: "name", path: `${path}#name`, text: node.ns ? `${node.ns} ${node.name}` : node.name, elements: chain }) !== undefined) return undefined;
  const attrs: Record<string, string> = {};
  for (const [k, v] of Object.entries(node.attrs)) attrs[k] = fn({ at: "attr", path: `${path}@${k}`, text: v, elements: chain }) ?? v;
  const children: (XNode | string)[] = [];
  node.children.forEach((c, i) => {
    if (typeof c === "string") children.push(fn({ at: "text", path: `${path}/${i}`, text: c, elements: chain }) ?? c);
    else {
      const m = mapTree(c, fn, `${path}/${i}`, chain);
      if (m) children.push(m);
    }
  });
  return { ...node, attrs, children };
}

/** Block-level XHTML elements whose end is a line break in the text form. */
const BLOCK = new Set(["p", "div", "li", "blockquote", "h1", "h2", "h3", "h4", "h5", "h6", "pre", "tr"]);

/** The text a reader sees: every text node in order, <br/> and block ends as line breaks. */
export function renderedText(node: XNode): string {
  let out = "";
  const walk = (n: XNode) => {
    if (n.name === "br") out += "\n";
    for (const c of n.children) typeof c === "string" ? (out += c) : walk(c);
    if (BLOCK.has(n.name) && !out.endsWith("\n")) out += "\n";
  };
  walk(node);
  return out.replace(/\n+$/, "");
}
