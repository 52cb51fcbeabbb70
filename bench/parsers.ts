/**
 * npm run bench:parsers: the front-door parsers on normal traffic and on the
 * hostile inputs of the fuzzing issue, each beside a baseline measured in the
 * same run: bare ltx for the XML stream, the `sip` package's parse for SIP
 * heads. Times are the best of a few runs after a warm-up.
 */
import sip from "sip";
import { XmppStreamParser } from "../src/xmpp/stream-parser.js";
import { Parser } from "../src/xmpp/xml.js";
import { StreamFramer } from "../src/edge/sip/framing.js";
import { readPidf } from "../src/mapping/pidf.js";
import { bestMs } from "../test/helpers/timing.js";

const HEADER = "<stream:stream xmlns='jabber:server' xmlns:stream='http://etherx.jabber.org/streams' to='corp.test' from='p.test' version='1.0'>";
const STANZA = "<message from='alice@p.test/r' to='bob@corp.test' type='chat' id='abc123'><body>Hello, how is the release going? &amp; the tests?</body></message>";
const row = (what: string, ours: number, base?: number) =>
  console.log(`${what.padEnd(52)} ${ours.toFixed(2).padStart(8)} ms${base === undefined ? "" : `   baseline ${base.toFixed(2).padStart(8)} ms`}`);

function split(s: string, step: number): Buffer[] {
  const b = Buffer.from(s);
  return Array.from({ length: Math.ceil(b.length / step) }, (_, k) => b.subarray(k * step, (k + 1) * step));
}

function xmpp(what: string, body: string, step: number): void {
  const chunks = split(body, step);
  const ours = bestMs(() => {
    const p = new XmppStreamParser({ maxStanzaBytes: 1 << 20 });
    p.write(Buffer.from(HEADER));
    for (const c of chunks) p.write(c);
  });
  const texts = chunks.map((c) => c.toString("latin1"));
  const bare = bestMs(() => {
    const p = new Parser();
    p.on("error", () => undefined);
    p.write(HEADER);
    for (const t of texts) p.write(t);
  }, { warmup: 1, runs: 2 });
  row(`xmpp ${what} (bare ltx)`, ours, bare);
}

const LIMITS = { maxHeaderBytes: 65_536, maxBodyBytes: 65_536 };
/** The baseline runs once, cold, on hostile input (it can take seconds), warmed up on normal input; "none" skips it. */
function sipHead(what: string, head: string, baseline: "hostile" | "normal" | "none" = "hostile"): void {
  const ours = bestMs(() => new StreamFramer(LIMITS).push(head));
  const base = baseline === "none" ? undefined : bestMs(() => sip.parse(head), baseline === "normal" ? {} : { warmup: 0, runs: 1 });
  row(`sip ${what} (sip.parse)`, ours, base);
}

function pidf(what: string, xml: string): void {
  row(`pidf ${what}`, bestMs(() => {
    try {
      readPidf(xml);
    } catch {
      // refused, as it should be
    }
  }));
}

xmpp("1,000 stanzas in one write", STANZA.repeat(1_000), 1 << 20);
xmpp("64 KiB stanza, 1-byte writes", `<message><body>${"y".repeat(65_504)}</body></message>`, 1);
xmpp("256 KiB stanza, 16-byte writes", `<message><body>${"y".repeat(262_112)}</body></message>`, 16);
sipHead("normal MESSAGE head", "MESSAGE sip:bob@corp.test SIP/2.0\r\nVia: SIP/2.0/TLS 192.0.2.1:5061;branch=z9hG4bK1\r\nTo: <sip:bob@corp.test>\r\nFrom: \"A\" <sip:a@p.test>;tag=1\r\nCall-ID: c1\r\nCSeq: 1 MESSAGE\r\nContent-Length: 0\r\n\r\n", "normal");
sipHead("status line + 2,000 spaces + bare LFs", `SIP/2.0 200 ${" ".repeat(2_000)}\nX\nY\r\nl: 0\r\n\r\n`);
sipHead("To: < + 2,000 spaces", `MESSAGE sip:a@b SIP/2.0\r\nTo: <${" ".repeat(2_000)}\r\nl: 0\r\n\r\n`);
sipHead("Via with 16,000 tabs before ':'", `MESSAGE sip:a@b SIP/2.0\r\nVia: SIP/2.0/TCP h${"\t".repeat(16_000)}:\r\nl: 0\r\n\r\n`);
sipHead("64 KiB of '<;' in To", `MESSAGE sip:a@b SIP/2.0\r\nTo: ${"<;".repeat(32_000)}\r\nl: 0\r\n\r\n`, "none");
const big = [...`MESSAGE sip:a@b SIP/2.0\r\nX: ${"a".repeat(32_000)}\r\nl: 0\r\n\r\n`];
row("sip framer, 32 KiB head 1 byte at a time", bestMs(() => {
  const f = new StreamFramer(LIMITS);
  for (const c of big) f.push(c);
}));
const OPEN = "<presence xmlns='urn:ietf:params:xml:ns:pidf'>";
pidf("9,000 nested elements", `${OPEN}${"<a>".repeat(9_000)}${"</a>".repeat(9_000)}</presence>`);
pidf("16,000 mismatched end tags", `${OPEN}${"</x>".repeat(16_000)}</presence>`);
pidf("60 KB attribute value that never closes", `<presence x="${"a".repeat(60_000)}></presence>`);
