import { describe, expect, it } from "vitest";
import { parseDatagram, StreamFramer } from "../../../src/edge/sip/framing.js";
import { rawRequest } from "./raw-client.js";

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
