/**
 * The XML tree of one PIDF document (RFC 3863), read with ltx's tokenizer
 * (the one @xmpp/xml uses) but built here: @xmpp/xml's tree builder recurses
 * nowhere but raises an Error, with a stack trace, for every mismatched end
 * tag and keeps going (16,000 of them cost about 90 ms), and the reader used
 * to walk the tree recursively (9,000 levels overflowed the stack). This
 * builder stops at the first problem, refuses nesting deeper than any PIDF
 * needs, and its tree is walked with an explicit stack.
 */
import Parser from "@xmpp/xml/lib/Parser.js";
import type { EventEmitter } from "node:events";

export interface PidfNode {
  name: string;
  children: PidfNode[];
  text: string;
}

/** RFC 3863/4479/4480 documents nest about six deep; extensions add a few. */
export const MAX_PIDF_DEPTH = 32;

export class PidfXmlError {
  constructor(readonly message: string) {}
}

/** Parses one whole document: one root that closes, nothing but whitespace around it. */
export function parsePidfXml(xml: string): PidfNode {
  // Only the tokenizer of @xmpp/xml's parser is used; its own tree-building listeners are removed.
  const sax = (new Parser() as unknown as { parser: EventEmitter & { write(s: string): void } }).parser;
  sax.removeAllListeners();
  const stack: PidfNode[] = [];
  let root: PidfNode | undefined;
  let closed = false;
  const stop = (message: string): never => {
    // Not an Error: no stack trace to capture on hostile input.
    throw new PidfXmlError(message);
  };
  sax.on("startElement", (name: string) => {
    if (closed) stop("content after the document element");
    if (stack.length >= MAX_PIDF_DEPTH) stop(`elements nested deeper than ${MAX_PIDF_DEPTH}`);
    const node: PidfNode = { name, children: [], text: "" };
    if (root) stack[stack.length - 1]!.children.push(node);
    else root = node;
    stack.push(node);
  });
  sax.on("endElement", (name: string) => {
    const top = stack.pop();
    if (!top || top.name !== name) stop(`${top ? top.name : "nothing"} open where </${name}> closes`);
    if (stack.length === 0) closed = true;
  });
  sax.on("text", (text: string) => {
    const top = stack[stack.length - 1];
    if (top) top.text += text;
    else if (text.trim() !== "") stop("text outside the document element");
  });
  try {
    sax.write(xml);
  } catch (err) {
    if (err instanceof PidfXmlError) throw err;
    // ltx throws on an unknown entity reference.
    throw new PidfXmlError((err as Error).message);
  }
  if (!root || !closed) stop("document incomplete");
  return root!;
}

/** Every element, document order, without recursion. */
export function* descendants(root: PidfNode): Generator<PidfNode> {
  const todo: PidfNode[] = [root];
  while (todo.length > 0) {
    const el = todo.pop()!;
    yield el;
    for (let k = el.children.length - 1; k >= 0; k--) todo.push(el.children[k]!);
  }
}
