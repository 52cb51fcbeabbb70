/**
 * An envelope's parts (content.ts) in the form rules match against
 * (matchable.ts), and joined into the one text each rule is tested on. Built
 * only when a rule that applies has a content condition, and shared by the
 * stages of one evaluation while the envelope stays as it is: the rules and
 * lexicons stages read the same parts of the same message.
 */
import type { Envelope } from "../model/envelope.js";
import { contentParts, toMatchable, type Matchable } from "./content.js";

export interface Part {
  path: string;
  /** The text as written (or as an earlier redaction left it). */
  text: string;
  m: Matchable;
}

const part = (path: string, text: string): Part => ({ path, text, m: toMatchable(text) });

export class MatchableParts {
  private list: Part[] | undefined;
  private text: string | undefined;

  constructor(
    /** The envelope these are the parts of; a stage given parts of another envelope builds its own. */
    readonly envelope: Envelope,
    list?: Part[],
  ) {
    this.list = list;
  }

  get parts(): Part[] {
    if (!this.list) {
      const found = contentParts(this.envelope);
      const list = new Array<Part>(found.length);
      for (let i = 0; i < found.length; i++) list[i] = part(found[i]!.path, found[i]!.text);
      this.list = list;
    }
    return this.list;
  }

  /**
   * All parts joined by a blank line, so one test per rule covers them
   * however many parts a stanza is cut into: a match that spans two parts
   * still counts (a block errs on the side of blocking).
   */
  get joined(): string {
    if (this.text === undefined) {
      const parts = this.parts;
      this.text = parts.length === 1 ? parts[0]!.m.text : parts.map((p) => p.m.text).join("\n\n");
    }
    return this.text;
  }

  /** The parts as a redaction left them (for later rules of the same stage); these stay as they were. */
  redacted(changes: Record<string, string>): MatchableParts {
    return new MatchableParts(this.envelope, this.parts.map((p) => (changes[p.path] !== undefined ? part(p.path, changes[p.path]!) : p)));
  }
}
