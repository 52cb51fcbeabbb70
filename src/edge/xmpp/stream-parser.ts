/**
 * An XMPP stream parser on @xmpp/xml (ltx) that enforces what ltx does not:
 * RFC 6120 section 11.1 restricted XML (no comments, processing instructions,
 * DTDs or entity declarations: restricted-xml), section 11.6 UTF-8 only
 * (invalid encodings: not-well-formed), XML 1.0 legal characters, and a byte
 * cap per stanza (policy-violation), since ltx buffers without limit.
 *
 * ltx treats "<!DOCTYPE" as a comment and silently skips comments and PIs, so
 * XmlGuard (xml-guard.ts) scans the decoded text first; only text it
 * accepted reaches ltx.
 */
import { EventEmitter } from "node:events";
import { NS_STREAMS, StreamError } from "./errors.js";
import { Parser, type Element, type LtxStreamParser } from "./xml.js";
import { XmlGuard } from "./xml-guard.js";

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
  private decoder = new TextDecoder("utf-8", { fatal: true });
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
    this.decoder = new TextDecoder("utf-8", { fatal: true });
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

  /** True once a stream error was raised; further input is ignored. */
  get closed(): boolean {
    return this.failed || this.ended;
  }

  write(chunk: Buffer): void {
    if (this.closed) return;
    let text: string;
    try {
      text = this.decoder.decode(chunk, { stream: true });
    } catch {
      return this.fail(new StreamError("not-well-formed", "invalid UTF-8"));
    }
    if (this.guard.carry) {
      text = this.guard.carry + text;
      this.guard.carry = "";
    }
    if (text.length === 0) return;
    if (ILLEGAL_CHAR.test(text)) return this.fail(new StreamError("not-well-formed", "character not allowed in XML"));
    const problem = this.guard.scan(text);
    if (problem) return this.fail(problem);
    if (this.guard.feed.length === 0) return;
    try {
      this.ltx.write(this.guard.feed);
    } catch (err) {
      this.queue.push({ kind: "error", err: new StreamError("not-well-formed", describeLtxError(err)) });
    }
    this.drain();
  }

  private fail(err: StreamError): void {
    if (this.failed) return;
    this.failed = true;
    this.queue = [];
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
    const p = new Parser();
    // Whitespace between stanzas would otherwise pile up as children of the root.
    const parserAny = p as unknown as { onText(s: string): void; cursor: Element | null; root: Element | null };
    const onText = parserAny.onText.bind(p);
    (p as unknown as { parser: EventEmitter }).parser.removeAllListeners("text");
    (p as unknown as { parser: EventEmitter }).parser.on("text", (s: string) => {
      if (parserAny.cursor ? parserAny.cursor === parserAny.root : s.trim() === "") return;
      onText(s);
    });
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
