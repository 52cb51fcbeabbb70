/**
 * The scanner behind XmppStreamParser: RFC 6120 section 11.1 restricted XML
 * (no comments, processing instructions other than the XML declaration at
 * the start, DTDs or entity declarations: restricted-xml) and a byte cap per
 * top-level element (policy-violation), since ltx treats "<!DOCTYPE" as a
 * comment, silently skips comments and PIs, and buffers without limit.
 *
 * It tracks just enough state across chunks (tags, quotes, CDATA, depth) to
 * see those constructs and where each stanza ends, and hands back the text
 * ltx may parse: without the XML declaration (ltx loses a "?>" split across
 * writes) and without a trailing '<' whose meaning the next chunk decides.
 */
import { StreamError } from "./errors.js";

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

const CDATA_OPEN = "[CDATA[";
const TAG_SPECIAL = /["'<>]/g;

export class XmlGuard {
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
  carry = "";
  /** Text the scanner accepted, for ltx. */
  feed = "";

  constructor(
    /** Adjustable once the peer is known (a per-partner limit). */
    public maxStanzaBytes: number,
    private readonly maxDepth: number,
  ) {}

  /** Returns the first violation in the text, or undefined; updates the scanner state otherwise. */
  scan(s: string): StreamError | undefined {
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
          // A '<' at n is the carried one: the next chunk scans it.
          if (lt === -1 || lt >= n) {
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
          // Skip names and attribute names in one step; only quotes and the tag's end matter.
          TAG_SPECIAL.lastIndex = i;
          const hit = TAG_SPECIAL.exec(s);
          const j = hit && hit.index < n ? hit.index : n;
          if (j > i) {
            let k = j - 1;
            while (k >= i && s.charCodeAt(k) <= 0x20) k--;
            if (k >= i) this.lastTagChar = s.charCodeAt(k);
            i = j;
            if (i >= n) break;
          }
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
