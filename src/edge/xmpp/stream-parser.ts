/**
 * An XMPP stream parser on @xmpp/xml (ltx) that enforces what ltx does not:
 * RFC 6120 section 11.1 restricted XML (no comments, processing instructions,
 * DTDs or entity declarations: restricted-xml), section 11.6 UTF-8 only
 * (invalid encodings: not-well-formed), XML 1.0 legal characters, and a byte
 * cap per stanza (policy-violation), since ltx buffers without limit.
 *
 * ltx treats "<!DOCTYPE" as a comment and silently skips comments and PIs, so
 * a small scanner runs over the decoded text first and tracks just enough
 * state (tags, quotes, CDATA, depth) to see those constructs and where each
 * top-level element ends. Only text the scanner accepted reaches ltx.
 */
import { EventEmitter } from "node:events";
import { NS_STREAMS, StreamError } from "./errors.js";
import { Parser, type Element, type LtxStreamParser } from "./xml.js";

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

const enum S {
  Text,
  Lt,
  Tag,
  Quote,
  Bang,
  Cdata,
  Decl,
  DeclBody,
}

// XML 1.0 section 2.2 Char production: C0 controls other than TAB, LF, CR, and U+FFFE/U+FFFF are never legal.
const ILLEGAL_CHAR = /[\x00-\x08\x0B\x0C\x0E-\x1F\uFFFE\uFFFF]/;
const CDATA_OPEN = "[CDATA[";

export interface XmppStreamParser {
  on(event: "streamStart", fn: (attrs: Record<string, string>) => void): this;
  on(event: "stanza", fn: (el: Element) => void): this;
  on(event: "streamEnd", fn: () => void): this;
  on(event: "error", fn: (err: StreamError) => void): this;
}

export class XmppStreamParser extends EventEmitter {
  readonly maxStanzaBytes: number;
  readonly maxDepth: number;
  private decoder = new TextDecoder("utf-8", { fatal: true });
  private ltx!: LtxStreamParser;
  private queue: ParsedEvent[] = [];
  private generation = 0;
  private failed = false;
  private ended = false;

  // scanner state
  private state = S.Text;
  private depth = 0;
  private headerSeen = false;
  private declSeen = false;
  private endTag = false;
  private lastTagChar = 0;
  private quote = 0;
  private bang = "";
  private decl = "";
  private cdataBrackets = 0;
  private unitBytes = 0;
  /** A '<' held back at the end of a chunk until the next shows what it opens. */
  private carry = "";
  /** Text the scanner accepted, minus the XML declaration (ltx loses a "?>" split across writes). */
  private feed = "";

  constructor(opts: StreamParserOptions = {}) {
    super();
    this.maxStanzaBytes = opts.maxStanzaBytes ?? 262_144;
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
    this.state = S.Text;
    this.depth = 0;
    this.headerSeen = false;
    this.declSeen = false;
    this.unitBytes = 0;
    this.carry = "";
    this.ended = false;
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
    if (this.carry) {
      text = this.carry + text;
      this.carry = "";
    }
    if (text.length === 0) return;
    if (ILLEGAL_CHAR.test(text)) return this.fail(new StreamError("not-well-formed", "character not allowed in XML"));
    const problem = this.scan(text);
    if (problem) return this.fail(problem);
    if (this.feed.length === 0) return;
    try {
      this.ltx.write(this.feed);
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

  /** Returns the first violation in the text, or undefined; updates the scanner state otherwise. */
  private scan(s: string): StreamError | undefined {
    let segStart = 0;
    let n = s.length;
    const inDecl = () => this.state === S.Decl || this.state === S.DeclBody;
    let skipFrom = inDecl() ? 0 : -1;
    let skipTo = -1;
    if (s.charCodeAt(n - 1) === 0x3c && this.state !== S.Quote && this.state !== S.Cdata && !inDecl()) {
      this.carry = "<";
      n--;
    }
    for (let i = 0; i < n; i++) {
      switch (this.state) {
        case S.Text: {
          const lt = s.indexOf("<", i);
          if (lt === -1) {
            i = n;
            break;
          }
          i = lt;
          this.state = S.Lt;
          break;
        }
        case S.Lt: {
          const c = s.charCodeAt(i);
          if (c === 0x21 /* ! */) {
            this.state = S.Bang;
            this.bang = "";
          } else if (c === 0x3f /* ? */) {
            // Section 11.5: only the XML declaration, and only before the stream header.
            if (this.headerSeen || this.declSeen || this.depth > 0) {
              return new StreamError("restricted-xml", "processing instructions are not allowed");
            }
            this.state = S.Decl;
            this.decl = "";
            skipFrom = i - 1;
          } else {
            this.endTag = c === 0x2f; /* / */
            this.lastTagChar = c;
            this.state = S.Tag;
          }
          break;
        }
        case S.Bang: {
          this.bang += s[i];
          if (!CDATA_OPEN.startsWith(this.bang)) {
            return new StreamError(
              "restricted-xml",
              this.bang.startsWith("-") ? "comments are not allowed" : "DTDs and declarations are not allowed",
            );
          }
          if (this.bang === CDATA_OPEN) {
            if (this.depth < 2) return new StreamError("not-well-formed", "character data outside a stanza");
            this.state = S.Cdata;
            this.cdataBrackets = 0;
          }
          break;
        }
        case S.Cdata: {
          const c = s.charCodeAt(i);
          if (c === 0x3e /* > */ && this.cdataBrackets >= 2) this.state = S.Text;
          this.cdataBrackets = c === 0x5d /* ] */ ? this.cdataBrackets + 1 : 0;
          break;
        }
        case S.Decl: {
          const c = s[i]!;
          if (c === "?" || c === " " || c === "\t" || c === "\r" || c === "\n") {
            if (this.decl !== "xml") return new StreamError("restricted-xml", "processing instructions are not allowed");
            this.state = S.DeclBody;
            this.lastTagChar = c.charCodeAt(0);
          } else {
            this.decl += c;
            if (this.decl.length > 3) return new StreamError("restricted-xml", "processing instructions are not allowed");
          }
          break;
        }
        case S.DeclBody: {
          const c = s.charCodeAt(i);
          if (c === 0x3e && this.lastTagChar === 0x3f) {
            this.state = S.Text;
            this.declSeen = true;
            skipTo = i + 1;
          }
          this.lastTagChar = c;
          break;
        }
        case S.Quote: {
          const q = s.indexOf(String.fromCharCode(this.quote), i);
          const lt = s.indexOf("<", i);
          if (lt !== -1 && (q === -1 || lt < q)) return new StreamError("not-well-formed", "'<' in an attribute value");
          if (q === -1) {
            i = n;
            break;
          }
          i = q;
          this.state = S.Tag;
          this.lastTagChar = this.quote;
          break;
        }
        case S.Tag: {
          const c = s.charCodeAt(i);
          if (c === 0x22 || c === 0x27) {
            this.quote = c;
            this.state = S.Quote;
          } else if (c === 0x3c) {
            return new StreamError("not-well-formed", "'<' inside a tag");
          } else if (c === 0x3e /* > */) {
            this.state = S.Text;
            const selfClosing = this.lastTagChar === 0x2f && !this.endTag;
            const unitDone = this.closeTag(selfClosing);
            if (typeof unitDone === "object") return unitDone;
            if (unitDone) {
              this.unitBytes += Buffer.byteLength(s.slice(segStart, i + 1));
              if (this.unitBytes > this.maxStanzaBytes) return oversize(this.maxStanzaBytes);
              this.unitBytes = 0;
              segStart = i + 1;
            }
          } else if (c > 0x20) {
            this.lastTagChar = c;
          }
          break;
        }
      }
    }
    this.unitBytes += Buffer.byteLength(segStart === 0 && n === s.length ? s : s.slice(segStart, n));
    if (this.unitBytes > this.maxStanzaBytes) return oversize(this.maxStanzaBytes);
    if (skipFrom >= 0) {
      this.feed = s.slice(0, skipFrom) + (skipTo >= 0 ? s.slice(skipTo, n) : "");
    } else {
      this.feed = n === s.length ? s : s.slice(0, n);
    }
    return undefined;
  }

  /** Tracks depth at the end of a tag; true when a top-level unit (header or stanza) just ended. */
  private closeTag(selfClosing: boolean): boolean | StreamError {
    if (this.endTag) {
      this.depth--;
      if (this.depth < 0) return new StreamError("not-well-formed", "closing tag without an opening tag");
      return this.depth <= 1;
    }
    if (selfClosing) {
      if (this.depth === 0) return new StreamError("not-well-formed", "the stream header may not be self-closing");
      return this.depth === 1;
    }
    this.depth++;
    if (this.depth > this.maxDepth + 1) return new StreamError("policy-violation", `elements nested deeper than ${this.maxDepth}`);
    if (this.depth === 1) {
      this.headerSeen = true;
      return true;
    }
    return false;
  }
}

function oversize(max: number): StreamError {
  return new StreamError("policy-violation", `stanza larger than ${max} bytes`);
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
