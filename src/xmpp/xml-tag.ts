/**
 * One start or end tag, read character by character across chunks with the
 * grammar of XML 1.0 section 3.1: `<Name (S Attribute)* S? /?>` and
 * `</Name S?>`, an Attribute being `Name S? = S? quoted-value` with no '<' in
 * the value.
 *
 * The stream guard holds tags to this grammar, not just to balanced quotes,
 * because ltx reads looser markup in ways that lose data and time: a '!' in
 * a name starts what it takes for a comment, and an attribute without '='
 * makes it look past the '>' for one; either swallowed the rest of the
 * stanza silently, rescanning to its end at every character.
 */

const enum T {
  Name,
  InTag,
  AttrName,
  BeforeEq,
  AfterEq,
  Value,
  Slash,
}

export interface TagProblem {
  at: number;
  text: string;
}

/** Characters that end a name. '!' and '?' cannot appear in one either: they are refused where they stand. */
const NAME_END: boolean[] = [];
for (const c of [0x20, 0x09, 0x0a, 0x0d, 0x2f, 0x3e, 0x3c, 0x3d, 0x22, 0x27, 0x21, 0x3f]) NAME_END[c] = true;

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
}

export class TagScanner {
  name = "";
  endTag = false;
  selfClosing = false;
  private st = T.Name;
  private quote = 0;
  /** Whitespace came since the last name or value: an attribute may start. */
  private spaced = false;
  /** The next '<' in the current chunk at or after where it was last looked for (-2: not looked yet). */
  private lt = -2;

  /** A new chunk begins: forget where its predecessor's next '<' was. */
  newChunk(): void {
    this.lt = -2;
  }

  /** Remembered, since searching afresh for every attribute of a long tag would be quadratic. */
  private nextLt(s: string, from: number): number {
    if (this.lt === -2 || (this.lt !== -1 && this.lt < from)) this.lt = s.indexOf("<", from);
    return this.lt;
  }

  /** Starts a tag; `name` is its first name character ("" for an end tag, whose '/' was just read). */
  start(name: string, endTag: boolean): void {
    this.name = name;
    this.endTag = endTag;
    this.selfClosing = false;
    this.st = T.Name;
    this.spaced = false;
  }

  /** Reads from i; returns the index of the '>' that ends the tag, -1 when the chunk ends first, or a problem. */
  feed(s: string, from: number): number | TagProblem {
    const n = s.length;
    let i = from;
    while (i < n) {
      const c = s.charCodeAt(i);
      switch (this.st) {
        case T.Name:
        case T.AttrName: {
          const start = i;
          while (i < n && !NAME_END[s.charCodeAt(i)]) i++;
          if (this.st === T.Name && i > start) this.name += s.slice(start, i);
          if (i === n) return -1;
          const e = s.charCodeAt(i);
          if (e === 0x21 || e === 0x3f) return { at: i, text: "'!' or '?' in a name" };
          if (this.st === T.Name) {
            if (this.name === "") return { at: i, text: "malformed tag" };
            this.st = T.InTag;
            this.spaced = false;
          } else {
            this.st = T.BeforeEq;
          }
          continue;
        }
        case T.InTag:
          if (isSpace(c)) this.spaced = true;
          else if (c === 0x3e) return i;
          else if (c === 0x2f && !this.endTag) this.st = T.Slash;
          else if (this.spaced && !this.endTag && !NAME_END[c]) {
            this.st = T.AttrName;
            continue;
          } else return { at: i, text: this.endTag ? "malformed end tag" : "malformed attribute" };
          break;
        case T.BeforeEq:
          if (c === 0x3d) this.st = T.AfterEq;
          else if (!isSpace(c)) return { at: i, text: "attribute without a value" };
          break;
        case T.AfterEq:
          if (c === 0x22 || c === 0x27) {
            this.quote = c;
            this.st = T.Value;
          } else if (!isSpace(c)) return { at: i, text: "attribute value without quotes" };
          break;
        case T.Value: {
          const q = s.indexOf(this.quote === 0x22 ? '"' : "'", i);
          const end = q === -1 ? n : q;
          const lt = this.nextLt(s, i);
          if (lt !== -1 && lt < end) return { at: lt, text: "'<' in an attribute value" };
          if (q === -1) return -1;
          i = q;
          this.st = T.InTag;
          this.spaced = false;
          break;
        }
        case T.Slash:
          if (c !== 0x3e) return { at: i, text: "malformed empty-element tag" };
          this.selfClosing = true;
          return i;
      }
      i++;
    }
    return -1;
  }
}
