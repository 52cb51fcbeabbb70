/**
 * Builds ltx Elements from the units XmlGuard hands on (xml-guard.ts): the
 * stream header, one whole stanza, or the closing tag, each a complete piece
 * of text whose markup the guard already held to the grammar (names, quoted
 * attributes, no '<' in values, matched and bounded nesting, closed CDATA).
 *
 * It replaces ltx's SAX parser and @xmpp/xml's tree builder on this path,
 * which read every character a second time, one state switch each, made an
 * attribute object for end tags too, a closure per write and three events
 * per element. Here a unit is read with indexOf jumps and the elements are
 * the same ltx Elements, built the same way: the same names, attribute
 * objects and child strings, entities decoded by ltx's own unescapeXML (so
 * an undeclared entity or a reference to an illegal character fails with
 * the same error). One deliberate difference: ltx drops the text that
 * follows a CDATA section up to the next tag; it is kept here.
 */
import { Element, unescapeXML } from "./xml.js";

export const enum Unit {
  /** The stream header: `root` was just opened. */
  Start,
  /** A stanza was completed. */
  Stanza,
  /** The stream's closing tag. */
  End,
  /** The unit completed nothing (not expected of a guard's unit). */
  None,
}

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
}

/** A unit the guard should have refused: the parse stops rather than guess. */
function malformed(): Error {
  return new Error("malformed XML");
}

export class XmlTree {
  root: Element | null = null;
  private cursor: Element | null = null;
  /** The stanza the last unit completed (Unit.Stanza). */
  stanza: Element | null = null;

  /** Reads one unit; says what it completed. Throws on an entity or character reference ltx would refuse. */
  parse(s: string): Unit {
    let done = Unit.None;
    const n = s.length;
    let i = 0;
    while (i < n) {
      const lt = s.indexOf("<", i);
      const end = lt === -1 ? n : lt;
      if (end > i) this.text(s, i, end);
      if (lt === -1) break;
      const c = s.charCodeAt(lt + 1);
      if (c === 0x21 /* ! */) {
        i = this.cdata(s, lt);
      } else if (c === 0x2f /* / */) {
        const close = s.indexOf(">", lt + 2);
        if (close === -1) throw malformed();
        let e = lt + 2;
        while (e < close && !isSpace(s.charCodeAt(e))) e++;
        const r = this.endElement(s.slice(lt + 2, e));
        if (r !== Unit.None) done = r;
        i = close + 1;
      } else {
        const opened = this.root;
        i = this.startTag(s, lt + 1);
        if (s.charCodeAt(i - 2) === 0x2f /* / */) {
          const r = this.endElement(this.cursor!.name);
          if (r !== Unit.None) done = r;
        } else if (opened === null) {
          done = Unit.Start;
        }
      }
    }
    return done;
  }

  /** Reads `<name attrs... (/)>` from the name at i; returns the index after its '>'. */
  private startTag(s: string, i: number): number {
    const n = s.length;
    let e = i;
    for (; e < n; e++) {
      const c = s.charCodeAt(e);
      if (isSpace(c) || c === 0x2f || c === 0x3e) break;
    }
    const attrs: Record<string, string> = {};
    let p = e;
    for (;;) {
      while (p < n && isSpace(s.charCodeAt(p))) p++;
      if (p >= n) throw malformed();
      const c = s.charCodeAt(p);
      if (c === 0x3e /* > */) break;
      if (c === 0x2f /* / */) {
        if (s.charCodeAt(p + 1) !== 0x3e) throw malformed();
        p++;
        break;
      }
      const nameStart = p;
      while (p < n && !isSpace(s.charCodeAt(p)) && s.charCodeAt(p) !== 0x3d) p++;
      const attrName = s.slice(nameStart, p);
      const eq = s.indexOf("=", p);
      if (eq === -1) throw malformed();
      p = eq + 1;
      while (p < n && isSpace(s.charCodeAt(p))) p++;
      const q = s.charCodeAt(p);
      if (q !== 0x22 && q !== 0x27) throw malformed();
      const close = s.indexOf(q === 0x22 ? '"' : "'", p + 1);
      if (close === -1) throw malformed();
      attrs[attrName] = unescapeXML(s.slice(p + 1, close));
      p = close + 1;
    }
    this.startElement(s.slice(i, e), attrs);
    return p + 1;
  }

  private startElement(name: string, attrs: Record<string, string>): void {
    // Taking the attribute object made for this tag rather than the copy ltx's constructor makes of it.
    const el = new Element(name);
    el.attrs = attrs;
    if (!this.root) {
      this.root = el;
    } else if (this.cursor !== this.root) {
      this.cursor!.children.push(el);
      el.parent = this.cursor;
    }
    this.cursor = el;
  }

  private endElement(name: string): Unit {
    const cursor = this.cursor;
    if (!cursor || cursor.name !== name) throw malformed();
    if (cursor === this.root) return Unit.End;
    if (!cursor.parent) {
      this.stanza = cursor;
      this.cursor = this.root;
      return Unit.Stanza;
    }
    this.cursor = cursor.parent;
    return Unit.None;
  }

  /** Text between the stream's tags is dropped (whitespace between stanzas), but its entities still checked as ltx did. */
  private text(s: string, from: number, to: number): void {
    const cursor = this.cursor;
    if (!cursor || cursor === this.root) {
      const amp = s.indexOf("&", from);
      if (amp !== -1 && amp < to) unescapeXML(s.slice(from, to));
      if (!cursor && s.slice(from, to).trim() !== "") throw new Error("text outside the stream");
      return;
    }
    cursor.children.push(unescapeXML(s.slice(from, to)));
  }

  /** `<![CDATA[...]]>` at lt: its content is text as it stands. Returns the index after it. */
  private cdata(s: string, lt: number): number {
    const from = lt + 9;
    if (s.slice(lt + 2, from) !== "[CDATA[") throw malformed();
    const close = s.indexOf("]]>", from);
    if (close === -1) throw malformed();
    const cursor = this.cursor;
    if (close > from && cursor && cursor !== this.root) cursor.children.push(s.slice(from, close));
    return close + 3;
  }
}
