/**
 * The scanner behind XmppStreamParser: RFC 6120 section 11.1 restricted XML
 * (no comments, processing instructions other than the XML declaration at
 * the start, DTDs or entity declarations: restricted-xml), no text before the
 * stream header (section 4.9.3.13 not-well-formed, e.g. an HTTP request sent
 * to 5222/5269) and a byte cap per top-level element (policy-violation),
 * since ltx treats "<!DOCTYPE" as a comment, silently skips comments and PIs,
 * and buffers without limit.
 *
 * Every character is looked at once, in order, with all state carried across
 * chunks, so the verdict never depends on where a chunk ends: an error is
 * reported at the character that causes it, and a stanza that grows past the
 * cap is refused at the character that crosses it. The text of each
 * top-level unit (the stream header, each stanza, the closing tag) is handed
 * on whole, without the XML declaration, once its last '>' is seen: ltx then
 * sees the same writes however the input was split, and never rescans a
 * growing remainder (it re-joins its pending text on every write).
 */
import { StreamError, type StreamCondition } from "./errors.js";
import { TagScanner } from "./xml-tag.js";

const enum S {
  Text,
  Lt,
  Tag,
  Bang,
  Cdata,
  Decl,
  DeclBody,
}

const CDATA_OPEN = "[CDATA[";

/** Receives each complete unit; returns false to stop the scan (the stream failed or restarted). */
export type UnitSink = (unit: string) => boolean;

function isXmlSpace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
}

export class XmlGuard {
  private state = S.Text;
  /** Names of the open elements, the stream root first: the depth, and what an end tag must match. */
  private open: string[] = [];
  private readonly tagScan = new TagScanner();
  private headerSeen = false;
  private declSeen = false;
  /** The previous character inside the XML declaration: "?>" ends it. */
  private declLast = 0;
  private bang = "";
  private decl = "";
  private cdataBrackets = 0;
  /** Bytes of the current unit counted so far. */
  private unitBytes = 0;
  /** Text of the current unit accepted so far, for ltx (a rope: appending is cheap, it is flattened once). */
  private pending = "";
  /** Inside the XML declaration: counted, not handed on (ltx loses a "?>" split across writes). */
  private skipping = false;
  /** The chunk being scanned and where its not yet counted text starts. */
  private s = "";
  private seg = 0;
  private ascii = false;

  constructor(
    /** Adjustable once the peer is known (a per-partner limit). */
    public maxStanzaBytes: number,
    private readonly maxDepth: number,
  ) {}

  /**
   * Scans one chunk of decoded text, handing each unit it completes to the sink.
   * Returns the first violation, or undefined (also when the sink stopped the scan).
   */
  scan(s: string, sink: UnitSink, ascii = false): StreamError | undefined {
    this.s = s;
    this.seg = 0;
    this.ascii = ascii;
    this.tagScan.newChunk();
    const n = s.length;
    for (let i = 0; i < n; i++) {
      const r = this.step(i, sink);
      if (r === STOP) return undefined;
      if (r instanceof StreamError) return r;
      i = r;
    }
    if (this.take(n)) return oversize(this.maxStanzaBytes);
    this.s = "";
    return undefined;
  }

  /** Characters held for the unit in progress. */
  get held(): number {
    return this.pending.length;
  }

  private get depth(): number {
    return this.open.length;
  }

  /** Handles the character at i; returns the index of the last character consumed, an error, or STOP. */
  private step(i: number, sink: UnitSink): number | StreamError | typeof STOP {
    const s = this.s;
    switch (this.state) {
      case S.Text:
        return this.text(i);
      case S.Lt:
        return this.lt(i);
      case S.Bang: {
        this.bang += s[i];
        if (!CDATA_OPEN.startsWith(this.bang)) {
          return this.errorAt(i, "restricted-xml", this.bang.startsWith("-") ? "comments are not allowed" : "DTDs and declarations are not allowed");
        }
        if (this.bang === CDATA_OPEN) {
          if (this.depth < 2) return this.errorAt(i, "not-well-formed", "character data outside a stanza");
          this.state = S.Cdata;
          this.cdataBrackets = 0;
        }
        return i;
      }
      case S.Cdata: {
        const c = s.charCodeAt(i);
        if (c === 0x3e /* > */ && this.cdataBrackets >= 2) this.state = S.Text;
        this.cdataBrackets = c === 0x5d /* ] */ ? this.cdataBrackets + 1 : 0;
        return i;
      }
      case S.Decl:
        return this.declName(i);
      case S.DeclBody: {
        const c = s.charCodeAt(i);
        if (c === 0x3e && this.declLast === 0x3f) {
          this.state = S.Text;
          this.declSeen = true;
          if (this.take(i + 1)) return oversize(this.maxStanzaBytes);
          this.skipping = false;
        }
        this.declLast = c;
        return i;
      }
      case S.Tag:
        return this.tag(i, sink);
    }
  }

  private text(i: number): number | StreamError {
    const s = this.s;
    const lt = s.indexOf("<", i);
    const end = lt === -1 ? s.length : lt;
    // Before the header only whitespace may come (RFC 6120 4.9.3.13): "GET / HTTP/1.1" is refused at its first byte.
    if (this.depth === 0) {
      for (let j = i; j < end; j++) {
        if (!isXmlSpace(s.charCodeAt(j))) return this.errorAt(j, "not-well-formed", this.headerSeen ? "text after the stream" : "text before the stream header");
      }
    }
    if (lt === -1) return s.length;
    this.state = S.Lt;
    return lt;
  }

  private lt(i: number): number | StreamError {
    const c = this.s.charCodeAt(i);
    if (c === 0x21 /* ! */) {
      this.state = S.Bang;
      this.bang = "";
    } else if (c === 0x3f /* ? */) {
      // Section 11.5: only the XML declaration, and only before the stream header.
      if (this.headerSeen || this.declSeen || this.depth > 0) return this.errorAt(i, "restricted-xml", "processing instructions are not allowed");
      this.state = S.Decl;
      this.decl = "";
      this.startSkipping(i);
    } else if (isXmlSpace(c) || c === 0x3c || c === 0x3e || c === 0x3d || c === 0x22 || c === 0x27) {
      return this.errorAt(i, "not-well-formed", "malformed tag");
    } else {
      this.state = S.Tag;
      this.tagScan.start(c === 0x2f /* / */ ? "" : this.s[i]!, c === 0x2f);
    }
    return i;
  }

  /** The declaration's '<' is the previous character: in this chunk, or the last one kept from the previous. */
  private startSkipping(i: number): void {
    if (i > 0) {
      this.take(i - 1);
    } else {
      this.pending = this.pending.slice(0, -1);
    }
    this.skipping = true;
  }

  private declName(i: number): number | StreamError {
    const c = this.s[i]!;
    if (c === "?" || isXmlSpace(c.charCodeAt(0))) {
      if (this.decl !== "xml") return this.errorAt(i, "restricted-xml", "processing instructions are not allowed");
      this.state = S.DeclBody;
      this.declLast = c.charCodeAt(0);
    } else {
      this.decl += c;
      if (this.decl.length > 3) return this.errorAt(i, "restricted-xml", "processing instructions are not allowed");
    }
    return i;
  }

  private tag(i: number, sink: UnitSink): number | StreamError | typeof STOP {
    const r = this.tagScan.feed(this.s, i);
    if (r === -1) return this.s.length;
    if (typeof r === "object") return this.errorAt(r.at, "not-well-formed", r.text);
    this.state = S.Text;
    const unitDone = this.closeTag(this.tagScan.selfClosing);
    if (unitDone instanceof StreamError) return this.errorAt(r, unitDone);
    if (unitDone) {
      if (this.take(r + 1)) return oversize(this.maxStanzaBytes);
      const unit = this.pending;
      this.pending = "";
      this.unitBytes = 0;
      if (!sink(unit)) return STOP;
    }
    return r;
  }

  /** Counts (and keeps, outside the declaration) the chunk's text up to `to`; true when the unit is now over the cap. */
  private take(to: number): boolean {
    if (to > this.seg) {
      const piece = this.seg === 0 && to === this.s.length ? this.s : this.s.slice(this.seg, to);
      this.unitBytes += this.ascii ? piece.length : Buffer.byteLength(piece);
      if (!this.skipping) this.pending += piece;
      this.seg = to;
    }
    return this.unitBytes > this.maxStanzaBytes;
  }

  /** An error at character i, unless the unit had already grown past the cap by then. */
  private errorAt(i: number, condition: StreamError | StreamCondition, text?: string): StreamError {
    if (this.take(i + 1)) return oversize(this.maxStanzaBytes);
    return condition instanceof StreamError ? condition : new StreamError(condition, text);
  }

  /** Tracks depth at the end of a tag; true when a top-level unit (header or stanza) just ended. */
  private closeTag(selfClosing: boolean): boolean | StreamError {
    const name = this.tagScan.name;
    if (this.tagScan.endTag) {
      const opened = this.open.pop();
      if (opened === undefined) return new StreamError("not-well-formed", "closing tag without an opening tag");
      if (opened !== name) return new StreamError("not-well-formed", "closing tag does not match the open element");
      return this.depth <= 1;
    }
    if (selfClosing) {
      if (this.depth === 0) return new StreamError("not-well-formed", "the stream header may not be self-closing");
      return this.depth === 1;
    }
    this.open.push(name);
    if (this.depth > this.maxDepth + 1) return new StreamError("policy-violation", `elements nested deeper than ${this.maxDepth}`);
    if (this.depth === 1) {
      this.headerSeen = true;
      return true;
    }
    return false;
  }
}

const STOP = Symbol("stop");

function oversize(max: number): StreamError {
  return new StreamError("policy-violation", `stanza larger than ${max} bytes`);
}
