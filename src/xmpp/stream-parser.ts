/**
 * An XMPP stream parser on @xmpp/xml (ltx) that enforces what ltx does not:
 * RFC 6120 section 11.1 restricted XML (no comments, processing instructions,
 * DTDs or entity declarations: restricted-xml), section 11.6 UTF-8 only
 * (invalid encodings: not-well-formed), XML 1.0 legal characters, and a byte
 * cap per stanza (policy-violation), since ltx buffers without limit.
 *
 * ltx treats "<!DOCTYPE" as a comment and silently skips comments and PIs, so
 * XmlGuard (xml-guard.ts) scans the decoded text first; only text it
 * accepted reaches ltx, one whole stanza per write. The result (stanzas, or
 * the error and the stanzas before it) is the same however the bytes are
 * split into chunks.
 */
import { EventEmitter } from "node:events";
import { NS_STREAMS, StreamError } from "./errors.js";
import { Element, Parser, type LtxStreamParser } from "./xml.js";
import { XmlGuard } from "./xml-guard.js";
import { Utf8Stream } from "./utf8.js";

export interface StreamParserOptions {
  /** Largest stanza (and stream header), in bytes; RFC 6120 section 13.12 item 4. */
  maxStanzaBytes?: number;
  /** Deepest element nesting accepted inside a stanza. */
  maxDepth?: number;
}

type ParsedEvent =
  | { kind: "start"; attrs: Record<string, string> }
  | { kind: "stanza"; el: Element }
  | { kind: "end" }
  | { kind: "error"; err: StreamError };

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
  private ltx!: LtxStreamParser;
  private queue: ParsedEvent[] = [];
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
    this.queue = [];
    this.utf8 = new Utf8Stream();
    this.atStart = true;
    this.ltx?.removeAllListeners();
    this.ltx = this.createLtx();
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

  /** Each complete unit goes to ltx in one write and its events out at once, before the scan reads on. */
  private readonly sink = (unit: string): boolean => {
    const gen = this.generation;
    try {
      this.ltx.write(unit);
    } catch (err) {
      this.queue.push({ kind: "error", err: new StreamError("not-well-formed", describeLtxError(err)) });
    }
    this.drain();
    return gen === this.generation && !this.closed;
  };

  private fail(err: StreamError): void {
    if (this.failed) return;
    this.failed = true;
    this.queue = [];
    // Nothing more is read: let go of the unfinished stanza at once.
    this.guard = new XmlGuard(0, 0);
    this.emit("error", err);
  }

  private drain(): void {
    const gen = this.generation;
    while (this.queue.length > 0 && gen === this.generation && !this.failed) {
      const ev = this.queue.shift()!;
      switch (ev.kind) {
        case "start":
          this.emit("streamStart", ev.attrs);
          break;
        case "stanza":
          this.emit("stanza", ev.el);
          break;
        case "end":
          this.ended = true;
          this.emit("streamEnd");
          break;
        case "error":
          this.fail(ev.err);
          break;
      }
    }
  }

  private createLtx(): LtxStreamParser {
    const p = new TreeParser() as unknown as LtxStreamParser;
    p.on("start", (root) => {
      const problem = checkStreamElement(root);
      this.queue.push(problem ? { kind: "error", err: problem } : { kind: "start", attrs: { ...root.attrs } });
    });
    p.on("element", (el) => {
      el.parent = null;
      this.queue.push({ kind: "stanza", el });
    });
    p.on("end", () => this.queue.push({ kind: "end" }));
    p.on("error", (err) => this.queue.push({ kind: "error", err: new StreamError("not-well-formed", err.message) }));
    return p;
  }
}

interface TreeBuilder {
  root: Element | null;
  cursor: Element | null;
  emit(event: string, el: Element): boolean;
}
const Base = Parser as unknown as new () => TreeBuilder & { onText(s: string): void };

/**
 * @xmpp/xml's tree builder (it binds these methods when constructed, so the
 * overrides are the ones the SAX parser calls), changed in two ways: an
 * element takes the attribute object the SAX parser made for its tag rather
 * than a copy of it (one object less per element of every stanza), and
 * whitespace between stanzas is dropped instead of piling up as children of
 * the root.
 */
class TreeParser extends Base {
  onStartElement(name: string, attrs: Record<string, string>): void {
    const el = new Element(name);
    el.attrs = attrs;
    if (!this.root) {
      this.root = el;
      this.emit("start", el);
    } else if (this.cursor !== this.root) {
      this.cursor!.children.push(el);
      el.parent = this.cursor;
    }
    this.cursor = el;
  }

  override onText(s: string): void {
    if (this.cursor ? this.cursor === this.root : s.trim() === "") return;
    super.onText(s);
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

function describeLtxError(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  if (msg.startsWith("Illegal XML entity")) return "undeclared entity reference";
  if (msg.startsWith("Illegal XML character")) return "character reference to a character not allowed in XML";
  return "malformed XML";
}
