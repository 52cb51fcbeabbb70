import { describe, expect, it } from "vitest";
import { parseDatagram, StreamFramer } from "../../../src/edge/sip/framing.js";
import { rawRequest } from "./raw-client.js";
import { bestMs } from "../../helpers/timing.js";

const limits = { maxHeaderBytes: 4096, maxBodyBytes: 1024 };
const bin = (s: string) => Buffer.from(s, "utf8").toString("binary");

describe("StreamFramer (RFC 3261 18.3)", () => {
  it("frames back-to-back messages split at any byte, counting Content-Length in bytes", () => {
    const body = "héllo ✓";
    const two = bin(rawRequest({ body }) + rawRequest({ method: "OPTIONS" }));
    for (const cut of [1, 17, two.indexOf("\r\n\r\n") + 2, two.length - 3]) {
      const f = new StreamFramer(limits);
      const out = [...f.push(two.slice(0, cut)), ...f.push(two.slice(cut))];
      expect(out.map((r) => r.ok)).toEqual([true, true]);
      const first = out[0]!;
      if (!first.ok) throw new Error("unexpected");
      expect(Buffer.from(first.message.content!, "binary").toString("utf8")).toBe(body);
      expect(f.pending).toBe(0);
    }
  });

  it("skips CRLF keep-alives between messages (RFC 5626 4.4.1)", () => {
    const f = new StreamFramer(limits);
    const out = f.push(`\r\n\r\n${rawRequest({ method: "OPTIONS" })}\r\n\r\n`);
    expect(out).toHaveLength(1);
    expect(out[0]!.ok).toBe(true);
  });

  it("reports an unparseable head as fatal 400 without a message to answer", () => {
    const f = new StreamFramer(limits);
    const [r] = f.push("GARBAGE\r\nX: y\r\n\r\n");
    expect(r).toMatchObject({ ok: false, error: { status: 400, fatal: true } });
    if (!r!.ok) expect(r!.error.message).toBeUndefined();
    expect(f.push(rawRequest({ method: "OPTIONS" }))).toEqual([]);
  });

  it("answers oversize heads and bodies with 413 before reading the body", () => {
    const big = new StreamFramer(limits);
    expect(big.push(`OPTIONS sip:a@b SIP/2.0\r\nX: ${"a".repeat(5000)}`)[0]).toMatchObject({ ok: false, error: { status: 413 } });
    const body = new StreamFramer(limits);
    const [r] = body.push(rawRequest({ body: "x", contentLength: 2048 }));
    expect(r).toMatchObject({ ok: false, error: { status: 413, fatal: true } });
    if (!r!.ok) expect(r!.error.message?.method).toBe("MESSAGE");
  });

  it("requires Content-Length on a stream", () => {
    const f = new StreamFramer(limits);
    const [r] = f.push(rawRequest({ omit: ["Content-Length"] }));
    expect(r).toMatchObject({ ok: false, error: { status: 400, fatal: true } });
  });
});

describe("parseDatagram", () => {
  it("takes the whole datagram as the body when Content-Length is absent", () => {
    const r = parseDatagram(rawRequest({ body: "abc", omit: ["Content-Length"] }), limits);
    expect(r.ok && r.message.content).toBe("abc");
  });
  it("refuses a Content-Length beyond the datagram with 400 and truncates a shorter one", () => {
    expect(parseDatagram(rawRequest({ body: "abc", contentLength: 10 }), limits)).toMatchObject({ ok: false, error: { status: 400 } });
    const r = parseDatagram(rawRequest({ body: "abcdef", contentLength: 3 }), limits);
    expect(r.ok && r.message.content).toBe("abc");
  });
});

describe("StreamFramer: the same result however the stream is split", () => {
  const outcome = (f: StreamFramer, pieces: string[]) =>
    pieces.flatMap((p) => f.push(p)).map((r) => (r.ok ? `ok ${r.message.method ?? r.message.status} ${r.message.content}` : `${r.error.status} ${r.error.reason}`));

  it("answers 413 at the header limit whether or not the last LF comes alone", () => {
    const small = { maxHeaderBytes: 100, maxBodyBytes: 100 };
    const start = "OPTIONS sip:a@b SIP/2.0\r\nl: 0\r\nX: ";
    for (const headBytes of [98, 99, 100, 101, 102]) {
      const input = `${start}${"a".repeat(headBytes - start.length)}\r\n\r\n`;
      const whole = outcome(new StreamFramer(small), [input]);
      expect(whole).toEqual([headBytes > 100 ? "413 Request Entity Too Large" : "ok OPTIONS "]);
      for (let cut = 1; cut < input.length; cut++) {
        expect(outcome(new StreamFramer(small), [input.slice(0, cut), input.slice(cut)]), `${headBytes} bytes cut at ${cut}`).toEqual(whole);
      }
    }
  });

  it("frames keep-alives, heads and bodies identically at every two-way split and byte by byte", () => {
    const input = bin(`\r\n\r\n${rawRequest({ body: "héllo" })}\r\n${rawRequest({ method: "OPTIONS" })}\r\n\r\n${rawRequest({ body: "x", contentLength: 2048 })}`);
    const whole = outcome(new StreamFramer(limits), [input]);
    expect(whole.map((o) => o.split(" ")[0])).toEqual(["ok", "ok", "413"]);
    for (let cut = 1; cut < input.length; cut++) expect(outcome(new StreamFramer(limits), [input.slice(0, cut), input.slice(cut)])).toEqual(whole);
    expect(outcome(new StreamFramer(limits), [...input])).toEqual(whole);
  });

  it("does not rescan the pending head: 32 KiB a byte at a time in under 10 ms", () => {
    const head = `MESSAGE sip:a@b SIP/2.0\r\nX: ${"a".repeat(32_000)}\r\nl: 0\r\n\r\n`;
    const pieces = [...head];
    const run = () => {
      const f = new StreamFramer({ maxHeaderBytes: 65_536, maxBodyBytes: 1024 });
      for (const p of pieces) f.push(p);
    };
    expect(bestMs(run)).toBeLessThan(10);
  });
});

describe("Content-Length: digits only, once (RFC 3261 20.14, 7.3.1)", () => {
  const withLength = (...values: string[]) =>
    `MESSAGE sip:bob@corp.test SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bK1\r\nTo: <sip:bob@corp.test>\r\nFrom: <sip:a@p.test>;tag=1\r\nCall-ID: c\r\nCSeq: 1 MESSAGE\r\n${values.map((v) => `Content-Length: ${v}\r\n`).join("")}\r\n0123456789abcdef`;

  it.each(["0x10", "1e1", "0b10000", "", " ", "16.0", "-0"])("refuses %j with 400, answerable, on a stream and in a datagram", (v) => {
    const [r] = new StreamFramer(limits).push(withLength(v));
    expect(r).toMatchObject({ ok: false, error: { status: 400, fatal: true } });
    if (!r!.ok) expect(r!.error.message?.method).toBe("MESSAGE");
    expect(parseDatagram(withLength(v), limits)).toMatchObject({ ok: false, error: { status: 400 } });
  });

  it("refuses two Content-Length headers, equal or not, instead of letting the last win", () => {
    for (const pair of [["16", "0"], ["0", "16"], ["16", "16"]]) {
      const [r] = new StreamFramer(limits).push(withLength(...pair));
      expect(r).toMatchObject({ ok: false, error: { status: 400, reason: "Duplicate Content-Length", fatal: true } });
      expect(parseDatagram(withLength(...pair), limits)).toMatchObject({ ok: false, error: { status: 400 } });
    }
  });

  it("still takes a plain length", () => {
    const [r] = new StreamFramer(limits).push(withLength("16"));
    expect(r!.ok && r!.message.content).toBe("0123456789abcdef");
  });
});
