/**
 * The parsers under fuzz, each behind one function: feed an input in the
 * given chunks, return a plain description of what came out. The fuzz
 * engine compares these across chunkings; the regression tests use them too.
 *
 * What counts as the documented error path: StreamError events from the XML
 * stream parser, FramingError results from the SIP framer, PidfError from the
 * PIDF reader. Anything thrown is a finding.
 */
import sip, { type SipMessage } from "sip";
import { XmppStreamParser } from "../../src/xmpp/stream-parser.js";
import { parseDatagram, StreamFramer } from "../../src/edge/sip/framing.js";
import { response, serialize } from "../../src/edge/sip/message.js";
import { PidfError, readPidf } from "../../src/mapping/pidf.js";

export interface Outcome {
  /** Everything that came out, in order, as comparable strings. */
  events: string[];
  /** The most the parser held at once between chunks, in bytes. */
  held: number;
}

export interface Target {
  name: "xmpp" | "sip" | "pidf";
  /** Most a parser may hold between chunks: the memory oracle. */
  maxHeld: number;
  /** Byte strings that mean something to this grammar, for mutations. */
  tokens: string[];
  run(input: Buffer, cuts: number[]): Outcome;
}

/** Splits at the given offsets (sorted, deduplicated, inside the input). */
export function chunks(input: Buffer, cuts: number[]): Buffer[] {
  const at = [...new Set(cuts.filter((c) => c > 0 && c < input.length))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let prev = 0;
  for (const c of at) {
    out.push(input.subarray(prev, c));
    prev = c;
  }
  out.push(input.subarray(prev));
  return out;
}

export const XMPP_LIMITS = { maxStanzaBytes: 16_384, maxDepth: 32 };

export const xmpp: Target = {
  name: "xmpp",
  // The guard holds at most one stanza (the cap, counted as UTF-16 units, two bytes each) plus an unfinished UTF-8 sequence.
  maxHeld: 2 * XMPP_LIMITS.maxStanzaBytes + 4,
  tokens: ["<", ">", "/>", "</", "<!--", "-->", "<?", "?>", "<?xml version='1.0'?>", "<![CDATA[", "]]>", "<!DOCTYPE x>", "&amp;", "&lt;", "&#0;", "&#x1F600;", "&bogus;", "'", '"', "=", "/", ":", " ", "\t", "\r\n", "\n", "\u00e9", "\u{1F600}", "\xc3", "\xff", "\x00", "</stream:stream>", "<message>", "</message>", "<body>", "</body>", "xmlns='jabber:server'", "GET / HTTP/1.1\r\n"],
  run(input, cuts) {
    const p = new XmppStreamParser(XMPP_LIMITS);
    const events: string[] = [];
    p.on("streamStart", (attrs) => events.push(`start ${JSON.stringify(attrs)}`));
    p.on("stanza", (el) => events.push(`stanza ${el.toString()}`));
    p.on("streamEnd", () => events.push("end"));
    p.on("error", (err) => events.push(`error ${err.condition}: ${err.text ?? ""}`));
    let held = 0;
    for (const c of chunks(input, cuts)) {
      p.write(c);
      held = Math.max(held, p.buffered);
    }
    return { events, held };
  },
};

export const SIP_LIMITS = { maxHeaderBytes: 8_192, maxBodyBytes: 16_384 };

/** What the edge does with a framed message: read its URIs, answer a request. */
function describeMessage(m: SipMessage): string {
  for (const u of [m.uri, m.headers.to?.uri, m.headers.from?.uri]) if (typeof u === "string") sip.parseUri(u);
  if (m.method) serialize(response(m, 400, "Bad Request"));
  const { content, ...rest } = m;
  return `${JSON.stringify(rest)} body=${JSON.stringify(content ?? "")}`;
}

export const sipTarget: Target = {
  name: "sip",
  maxHeld: SIP_LIMITS.maxHeaderBytes + SIP_LIMITS.maxBodyBytes + 4,
  tokens: ["\r\n", "\r\n\r\n", "\r", "\n", ":", ";", ",", "<", ">", '"', "\\", " ", "\t", "=", "/", "@", "SIP/2.0", "SIP/2.0 200 OK", "Content-Length: 5", "Content-Length: 0x10", "l: 0", "l: 99999999", "Via: SIP/2.0/TCP h;branch=z9hG4bK1", "To: <", "From: \"x\" <sip:a@b>;tag=1", "CSeq: 1 MESSAGE", "Call-ID: c", "Contact: *", "[::1]", ";__proto__=x", "__proto__: y", "\xc3\xa9", "\xff"],
  run(input, cuts) {
    const framer = new StreamFramer(SIP_LIMITS);
    const events: string[] = [];
    let held = 0;
    for (const c of chunks(input, cuts)) {
      for (const r of framer.push(c.toString("binary"))) {
        events.push(r.ok ? `message ${describeMessage(r.message)}` : `error ${r.error.status} ${r.error.reason} fatal=${r.error.fatal} answerable=${Boolean(r.error.message)}`);
      }
      held = Math.max(held, framer.pending);
    }
    // The datagram path reads the same bytes as one message; it must not throw either.
    const d = parseDatagram(input.toString("binary"), SIP_LIMITS);
    events.push(d.ok ? "datagram ok" : `datagram ${d.error.status}`);
    if (d.ok) describeMessage(d.message);
    return { events, held };
  },
};

export const pidf: Target = {
  name: "pidf",
  maxHeld: 0,
  tokens: ["<", ">", "</", "/>", "<presence>", "</presence>", "<tuple>", "<status>", "<basic>open</basic>", "<rpid:activities>", "<ms:availability>99999</ms:availability>", "<note>", "<![CDATA[", "<!DOCTYPE", "<?xml version='1.0'?>", "<!-- c -->", "&amp;", "&bogus;", "'", '"', " ", "\u00e9"],
  // A PIDF body arrives whole (the SIP framer's body); chunking does not apply.
  run(input) {
    try {
      return { events: [`ok ${JSON.stringify(readPidf(input.toString("utf8")))}`], held: 0 };
    } catch (err) {
      if (err instanceof PidfError) return { events: [`error ${err.message}`], held: 0 };
      throw err;
    }
  },
};

export const TARGETS: Record<Target["name"], Target> = { xmpp, sip: sipTarget, pidf };
