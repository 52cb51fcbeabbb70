/**
 * The XML tree of one PIDF document (RFC 3863), read with ltx's tokenizer
 * (the one @xmpp/xml uses) but built here: @xmpp/xml's tree builder recurses
 * nowhere but raises an Error, with a stack trace, for every mismatched end
 * tag and keeps going (16,000 of them cost about 90 ms), and the reader used
 * to walk the tree recursively (9,000 levels overflowed the stack). This
 * builder stops at the first problem, refuses nesting deeper than any PIDF
 * needs, and its tree is walked with an explicit stack.
 *
 * ltx itself rescans to the end of its input for every character of a text,
 * attribute value or comment that does not end (64 KiB took 90 ms), so the
 * markup is checked first, in one pass (checkMarkup): every tag, attribute
 * value, comment and PI closes, attributes are name = quoted value, and the
 * document ends with markup. Only then does ltx see it, and every search it
 * makes finds its end.
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
export function parsePidfXml(input: string): PidfNode {
  const xml = input.trim();
  const problem = checkMarkup(xml);
  if (problem) throw new PidfXmlError(problem);
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

const isSpace = (c: number) => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
/** Ends a name: whitespace, '=', '>', '/', '<', a quote, or '!' and '?', which ltx reads as starting a comment or PI anywhere in a name. */
const endsName = (c: number) => isSpace(c) || c === 0x3d || c === 0x3e || c === 0x2f || c === 0x3c || c === 0x22 || c === 0x27 || c === 0x21 || c === 0x3f;

/** One pass over the markup; the first problem, or undefined. */
export function checkMarkup(s: string): string | undefined {
  let i = 0;
  for (;;) {
    const lt = s.indexOf("<", i);
    // The document ends with markup: ltx rescans trailing text for a '<' at every character.
    if (lt < 0) return i === s.length ? undefined : "document incomplete";
    const close = s.startsWith("<!--", lt) ? "-->" : s.startsWith("<?", lt) ? "?>" : undefined;
    if (close) {
      const end = s.indexOf(close, lt + 2);
      if (end < 0) return "unclosed comment or processing instruction";
      i = end + close.length;
      continue;
    }
    // ltx would read any other "<!" as a comment running to the next "-->".
    if (s.charCodeAt(lt + 1) === 0x21) return "declarations are not allowed";
    const end = tagEnd(s, lt + 1);
    if (typeof end === "string") return end;
    i = end;
  }
}

/** From just after '<': `/? name (S name S? = S? quoted)* S? /? >`; returns the index after '>' or a problem. */
function tagEnd(s: string, from: number): number | string {
  let i = from;
  if (s.charCodeAt(i) === 0x2f) i++;
  const name = i;
  while (i < s.length && !endsName(s.charCodeAt(i))) i++;
  if (i === name) return "malformed tag";
  for (;;) {
    const before = i;
    while (i < s.length && isSpace(s.charCodeAt(i))) i++;
    const c = s.charCodeAt(i);
    if (c === 0x3e) return i + 1;
    if (c === 0x2f && s.charCodeAt(i + 1) === 0x3e) return i + 2;
    if (i === before || i >= s.length) return "malformed tag";
    const attr = i;
    while (i < s.length && !endsName(s.charCodeAt(i))) i++;
    if (i === attr) return "malformed attribute";
    while (i < s.length && isSpace(s.charCodeAt(i))) i++;
    if (s.charCodeAt(i) !== 0x3d) return "attribute without a value";
    i++;
    while (i < s.length && isSpace(s.charCodeAt(i))) i++;
    const q = s.charCodeAt(i);
    if (q !== 0x22 && q !== 0x27) return "attribute value without quotes";
    const endQuote = s.indexOf(q === 0x22 ? '"' : "'", i + 1);
    if (endQuote < 0) return "unclosed attribute value";
    for (let k = i + 1; k < endQuote; k++) if (s.charCodeAt(k) === 0x3c) return "'<' in an attribute value";
    i = endQuote + 1;
  }
}
