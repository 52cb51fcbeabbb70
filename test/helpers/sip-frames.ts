/**
 * SIP over a stream as the tests read it: framed by Content-Length here and
 * parsed by the `sip` package, not by the product's own framer and header
 * parser, so what the gateway writes is checked by code it does not share.
 */
import sip, { type SipMessage } from "sip";

const HEAD_END = "\r\n\r\n";

/** Splits a byte stream (as a binary string) into SIP messages; keep-alive CRLFs are skipped, unparseable messages dropped. */
export class SipFrames {
  private buf = "";
  /** Messages the `sip` package could not parse (as text), for failure reports. */
  readonly unparsed: string[] = [];

  push(chunk: string): SipMessage[] {
    this.buf += chunk;
    const out: SipMessage[] = [];
    for (;;) {
      this.buf = this.buf.replace(/^(\r\n)+/, "");
      const end = this.buf.indexOf(HEAD_END);
      if (end < 0) return out;
      const head = this.buf.slice(0, end);
      const length = Number(/^(?:content-length|l)[ \t]*:[ \t]*(\d+)/im.exec(head)?.[1] ?? 0);
      const total = end + HEAD_END.length + length;
      if (this.buf.length < total) return out;
      const text = this.buf.slice(0, total);
      this.buf = this.buf.slice(total);
      const m = parseSip(text);
      if (m) out.push(m);
      else if (this.unparsed.length < 100) this.unparsed.push(text);
    }
  }
}

/** One whole message (a datagram, or a frame) with the `sip` package; undefined when it is not SIP. */
export function parseSip(text: string): SipMessage | undefined {
  try {
    return (sip.parse(text) as SipMessage | undefined) ?? undefined;
  } catch {
    return undefined;
  }
}
