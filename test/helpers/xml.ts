/**
 * XML as the tests read it: @xmpp/xml's parser (ltx), imported here and not
 * through the product, so output the product writes is checked by a parser
 * the product does not own. The element type is the one ltx implements.
 */
// @ts-ignore -- @xmpp/xml ships no type declarations
import { Parser } from "@xmpp/xml";
import type { Element } from "../../src/xmpp/xml.js";

export type { Element };

interface LtxStream {
  on(event: "element", f: (el: Element) => void): void;
  on(event: "error", f: (err: Error) => void): void;
  write(data: string): void;
}

/** Reads one XMPP stream as it arrives: each top-level element once it is complete. Parse errors end the reading, not the test. */
export class StreamReader {
  /** The first error the parser met (output a test sent on purpose, or a broken stream). */
  error: Error | undefined;
  private parser: LtxStream = new Parser();

  constructor(onElement: (el: Element) => void) {
    this.parser.on("element", onElement);
    this.parser.on("error", (err) => (this.error ??= err));
  }

  write(text: string): void {
    if (this.error) return;
    try {
      this.parser.write(text);
    } catch (err) {
      this.error = err as Error;
    }
  }
}

/** Parses a whole document (one element, e.g. a stanza from a log or a database row). */
export function parseXml(text: string): Element {
  let root: Element | undefined;
  let error: Error | undefined;
  const p = new Parser() as LtxStream & { on(event: "start" | "end", f: (el: Element) => void): void };
  p.on("end", (el) => (root = el));
  p.on("error", (err) => (error = err));
  p.write(text);
  if (error) throw error;
  if (!root) throw new Error(`not a complete document: ${text.slice(0, 200)}`);
  return root;
}
