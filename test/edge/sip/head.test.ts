/**
 * The SIP head reader (src/edge/sip/head.ts): linear on any input, and the
 * same message shape the `sip` package's parser gives for real traffic, so
 * its stringify and makeResponse keep working on what we read.
 */
import { readdirSync, readFileSync } from "node:fs";
import sip from "sip";
import { describe, expect, it } from "vitest";
import { parseHead } from "../../../src/edge/sip/head.js";
import { StreamFramer } from "../../../src/edge/sip/framing.js";
import { bestMs } from "../../helpers/timing.js";

const CORPUS = new URL("../../fuzz/corpus/sip/", import.meta.url).pathname;

/** The heads of every message in the SIP seed corpus, found with the framer. */
function corpusHeads(): string[] {
  const heads: string[] = [];
  for (const f of readdirSync(CORPUS)) {
    const framer = new StreamFramer({ maxHeaderBytes: 65_536, maxBodyBytes: 65_536 });
    const text = readFileSync(CORPUS + f).toString("binary");
    let at = 0;
    for (const r of framer.push(text)) {
      if (!r.ok) throw new Error(`${f}: ${r.error.reason}`);
      while (text.startsWith("\r\n", at)) at += 2;
      const end = text.indexOf("\r\n\r\n", at);
      heads.push(text.slice(at, end));
      at = end + 4 + (r.message.content?.length ?? 0);
    }
  }
  return heads;
}

describe("parseHead", () => {
  it("reads real heads into the shape the sip package's parser gives", () => {
    const heads = corpusHeads();
    expect(heads.length).toBeGreaterThanOrEqual(7);
    for (const head of heads) {
      const ours = parseHead(head);
      expect(ours.ok, head).toBe(true);
      // The package reads an IPv6 sent-by as host "[2001" and drops the rest; that case has its own test below.
      if (head.includes("[")) continue;
      const theirs = sip.parse(`${head}\r\n\r\n`)!;
      delete theirs.content;
      // Known, deliberate differences: a folded line is one SP here (RFC 3261 7.3.1), the package keeps the CRLF;
      // "Contact: *" is the string "*" here (as declared), the package makes it an address "*";
      // WWW-Authenticate stays text here (demarc never reads it); Route URIs stay text, as NameAddr declares.
      const normal = (m: object) =>
        JSON.parse(
          JSON.stringify(m, (k, v) => {
            if (k === "www-authenticate") return undefined;
            if (k === "contact" && v === "*") return [{ params: {}, uri: "*" }];
            if (k === "uri" && typeof v === "object") return sip.stringifyUri(v);
            return typeof v === "string" ? v.replace(/\r\n[ \t]+/g, " ") : v;
          }),
        );
      if (!ours.ok) continue;
      expect(normal(ours.message)).toEqual(normal(theirs));
    }
  });

  it("reads an IPv6 sent-by and its parameters", () => {
    const r = parseHead("OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/TCP [2001:db8::1]:5060;branch=z9hG4bK1;received=2001:db8::9");
    expect(r.ok && r.message.headers.via).toEqual([{ version: "2.0", protocol: "TCP", host: "[2001:db8::1]", port: 5060, params: { branch: "z9hG4bK1", received: "2001:db8::9" } }]);
  });

  it("ignores a header or parameter named __proto__ instead of replacing an object's prototype", () => {
    const r = parseHead("OPTIONS sip:a@b SIP/2.0\r\nTo: <sip:a@b>;__proto__=x;tag=1\r\n__proto__: y");
    if (!r.ok) throw new Error(r.reason);
    expect(Object.getPrototypeOf(r.message.headers.to!.params)).toBe(Object.prototype);
    expect(r.message.headers.to!.params).toEqual({ tag: "1" });
    expect(Object.getPrototypeOf(r.message.headers)).toBe(Object.prototype);
  });

  it("refuses a bare LF or CR, a start line that is not one, and a header name that is not a token", () => {
    for (const head of ["SIP/2.0 200 OK\nX: y", "OPTIONS sip:a@b SIP/2.0\r\nX: a\rb", "OPTIONS  sip:a@b SIP/2.0", "SIP/2.0 20 OK", "OPTIONS sip:a@b SIP/2.0\r\nX Y: z", "OPTIONS sip:a@b SIP/2.0\r\nnocolon"]) {
      expect(parseHead(head).ok, JSON.stringify(head)).toBe(false);
    }
  });

  it("takes Content-Length as digits only, once (RFC 3261 20.14)", () => {
    const base = "MESSAGE sip:bob@corp.test SIP/2.0\r\nCall-ID: c\r\n";
    for (const v of ["0x10", "1e1", "0b10000", "", "+5", "-1", "5 5", "５"]) {
      expect(parseHead(`${base}Content-Length: ${v}`)).toMatchObject({ ok: false, reason: "Invalid Content-Length" });
    }
    expect(parseHead(`${base}Content-Length: 5\r\nl: 0`)).toMatchObject({ ok: false, reason: "Duplicate l" });
    expect(parseHead(`${base}Call-ID: d\r\nContent-Length: 0`)).toMatchObject({ ok: false, reason: "Duplicate Call-ID" });
    const ok = parseHead(`${base}Content-Length: 00012`);
    expect(ok.ok && ok.message.headers["content-length"]).toBe(12);
  });
});

describe("SIP heads cost time linear in their size", () => {
  const limits = { maxHeaderBytes: 65_536, maxBodyBytes: 65_536 };
  const frame = (s: string) => () => void new StreamFramer(limits).push(s);
  const cases: [string, string][] = [
    ["a status line with 2,000 spaces and bare LFs", `SIP/2.0 200 ${" ".repeat(2_000)}\nX\nY\r\nl: 0\r\n\r\n`],
    ["a status line with 4,000 spaces", `SIP/2.0 200 ${" ".repeat(4_000)}\nX\nY\r\nl: 0\r\n\r\n`],
    ["To: < and 2,000 spaces", `MESSAGE sip:a@b SIP/2.0\r\nTo: <${" ".repeat(2_000)}\r\nl: 0\r\n\r\n`],
    ["From: < and 2,000 spaces", `MESSAGE sip:a@b SIP/2.0\r\nFrom: <${" ".repeat(2_000)}\r\nl: 0\r\n\r\n`],
    ...["", ":", ";", ","].map((end): [string, string] => [`a Via with 16,000 tabs then ${JSON.stringify(end)}`, `MESSAGE sip:a@b SIP/2.0\r\nVia: SIP/2.0/TCP h${end === ":" ? "" : end}${"\t".repeat(16_000)}${end === ":" ? ":" : ""}\r\nl: 0\r\n\r\n`]),
    ["a 64 KiB run of spaces in To", `MESSAGE sip:a@b SIP/2.0\r\nTo: <${" ".repeat(65_000)}\r\nl: 0\r\n\r\n`],
    ["64 KiB of '<;' in To", `MESSAGE sip:a@b SIP/2.0\r\nTo: ${"<;".repeat(32_000)}\r\nl: 0\r\n\r\n`],
    ["64 KiB of Contact list", `MESSAGE sip:a@b SIP/2.0\r\nContact: ${"<sip:a@b>,".repeat(6_000)}\r\nl: 0\r\n\r\n`],
    ["64 KiB of Via parameters", `MESSAGE sip:a@b SIP/2.0\r\nVia: SIP/2.0/TCP h${";a=b".repeat(16_000)}\r\nl: 0\r\n\r\n`],
    ["64 KiB of quoted display name", `MESSAGE sip:a@b SIP/2.0\r\nTo: "${"\\ ".repeat(32_000)}\r\nl: 0\r\n\r\n`],
  ];
  it.each(cases)("%s: under 10 ms", (_what, input) => {
    expect(bestMs(frame(input), { warmup: 2, runs: 3 })).toBeLessThan(10);
  });
});
