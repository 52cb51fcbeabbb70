/**
 * An XMPP stream parser producing ltx Elements that enforces RFC 6120
 * section 11.1 restricted XML (no comments, processing instructions, DTDs or
 * entity declarations: restricted-xml), section 11.6 UTF-8 only (invalid
 * encodings: not-well-formed), XML 1.0 legal characters, and a byte cap per
 * stanza (policy-violation).
 *
 * XmlGuard (xml-guard.ts) scans the decoded text first; only a whole unit it
 * accepted (header, stanza, closing tag) is built into elements, by XmlTree
 * (xml-tree.ts). The result (stanzas, or the error and the stanzas before
 * it) is the same however the bytes are split into chunks.
 */
import { EventEmitter } from "node:events";
import { NS_STREAMS, StreamError } from "./errors.js";
import type { Element } from "./xml.js";
import { Unit, XmlTree } from "./xml-tree.js";
import { XmlGuard } from "./xml-guard.js";
import { Utf8Stream } from "./utf8.js";

export interface StreamParserOptions {
  /** Largest stanza (and stream header), in bytes; RFC 6120 section 13.12 item 4. */
  maxStanzaBytes?: number;
  /** Deepest element nesting accepted inside a stanza. */
  maxDepth?: number;
}

// XML 1.0 section 2.2 Char production: C0 controls other than TAB, LF, CR, and U+FFFE/U+FFFF are never legal.
const ILLEGAL_CHAR = /[\x00-\x08\x0B\x0C\x0E-\x1F\uFFFE\uFFFF]/;

export interface XmppStreamParser {
  on(event: "streamStart", fn: (attrs: Record<string, string>) => void): this;
  on(event: "stanza", fn: (el: Element) => void): this;
  on(event: "streamEnd", fn: () => void): this;
  on(event: "error", fn: (err: StreamError) => void): this;
}

export class XmppStreamParser extends EventEmitter {
  private maxBytes: number;
  readonly maxDepth: number;
  private utf8 = new Utf8Stream();
  private atStart = true;
  private tree!: XmlTree;
  private generation = 0;
  private failed = false;
  private ended = false;

  private guard!: XmlGuard;

  constructor(opts: StreamParserOptions = {}) {
    super();
    this.maxBytes = opts.maxStanzaBytes ?? 262_144;
    this.maxDepth = opts.maxDepth ?? 64;
    this.reset();
  }

  /** RFC 6120 sections 5.4.3.3 and 6.4.6: after TLS or SASL the stream starts over with a fresh parser. */
  reset(): void {
    this.generation++;
    this.utf8 = new Utf8Stream();
    this.atStart = true;
    this.tree = new XmlTree();
    this.guard = new XmlGuard(this.maxBytes, this.maxDepth);
    this.ended = false;
  }

  get maxStanzaBytes(): number {
    return this.maxBytes;
  }

  /** Changes the cap from the next byte on, e.g. once the stream header says which partner this is. */
  set maxStanzaBytes(n: number) {
    this.maxBytes = n;
    this.guard.maxStanzaBytes = n;
  }

  /** Bytes (UTF-16 units for decoded text) held for an unfinished stanza: bounded by the stanza cap. */
  get buffered(): number {
    return this.closed ? 0 : 2 * this.guard.held + this.utf8.held;
  }

  /** True once a stream error was raised; further input is ignored. */
  get closed(): boolean {
    return this.failed || this.ended;
  }

  write(chunk: Buffer): void {
    if (this.closed) return;
    const gen = this.generation;
    let text = this.utf8.decode(chunk);
    if (this.atStart && text.length > 0) {
      // XML 1.0 section 4.3.3: a byte order mark may open the entity; it is not text before the header.
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
      this.atStart = false;
    }
    // Stanzas before a bad character are delivered as they would be had it come in a later chunk.
    const bad = this.utf8.clean ? -1 : text.search(ILLEGAL_CHAR);
    const problem = this.guard.scan(bad >= 0 ? text.slice(0, bad) : text, this.sink, this.utf8.ascii);
    if (gen !== this.generation || this.closed) return;
    if (problem) return this.fail(problem);
    if (bad >= 0) return this.fail(new StreamError("not-well-formed", "character not allowed in XML"));
    if (this.utf8.invalid) this.fail(new StreamError("not-well-formed", "invalid UTF-8"));
  }

  /** Each complete unit is built into elements and its event given out at once, before the scan reads on. */
  private readonly sink = (unit: string): boolean => {
    const gen = this.generation;
    const tree = this.tree;
    let done: Unit;
    try {
      done = tree.parse(unit);
    } catch (err) {
      this.fail(new StreamError("not-well-formed", describeParseError(err)));
      return false;
    }
    if (done === Unit.Start) {
      const root = tree.root!;
      const problem = checkStreamElement(root);
      if (problem) this.fail(problem);
      else this.emit("streamStart", { ...root.attrs });
    } else if (done === Unit.Stanza) {
      const el = tree.stanza!;
      tree.stanza = null;
      this.emit("stanza", el);
    } else if (done === Unit.End) {
      this.ended = true;
      this.emit("streamEnd");
    }
    return gen === this.generation && !this.closed;
  };

  private fail(err: StreamError): void {
    if (this.failed) return;
    this.failed = true;
    // Nothing more is read: let go of the unfinished stanza at once.
    this.guard = new XmlGuard(0, 0);
    this.tree = new XmlTree();
    this.emit("error", err);
  }
}

/** Sections 4.8.1 and 4.8.5: the root is <stream:stream/> in the streams namespace with the "stream" prefix. */
function checkStreamElement(root: Element): StreamError | undefined {
  const colon = root.name.indexOf(":");
  const prefix = colon >= 0 ? root.name.slice(0, colon) : "";
  const local = colon >= 0 ? root.name.slice(colon + 1) : root.name;
  if (local !== "stream") return new StreamError("invalid-namespace", "the root element must be <stream:stream/>");
  if (prefix !== "stream") return new StreamError("bad-namespace-prefix", "the streams namespace must use the prefix 'stream'");
  if (root.attrs["xmlns:stream"] !== NS_STREAMS) return new StreamError("invalid-namespace", `the stream namespace must be ${NS_STREAMS}`);
  return undefined;
}

function describeParseError(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  if (msg.startsWith("Illegal XML entity")) return "undeclared entity reference";
  if (msg.startsWith("Illegal XML character")) return "character reference to a character not allowed in XML";
  return "malformed XML";
}
