/**
 * Page-mode IM into demarc over real sockets (RFC 3428, RFC 7572): delivery,
 * compliance blocks as 403 + Warning, error mapping, and the bad input list.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEdge, type EdgeHarness } from "./harness.js";
import { until } from "../../helpers/wait.js";
import { RawSip, rawRequest } from "./raw-client.js";
import { allowAll } from "../../../src/router/router.js";
import type { Compliance } from "../../../src/model/route.js";

const ADDR = "127.0.8.1";
let h: EdgeHarness;

const blockWord: Compliance = {
  async evaluate(e) {
    if (e.body?.includes("project-x")) {
      return { deliver: false, envelope: e, policyVersion: "t", verdicts: [], error: { condition: "policy-violation", type: "modify", text: 'Rule "no-codenames": "project-x" may not leave the company' } };
    }
    return allowAll.evaluate(e);
  },
};

beforeAll(async () => {
  h = await startEdge({
    address: ADDR,
    compliance: blockWord,
    sip: { limits: { max_body_bytes: 65_536, requests_per_second: 1000, burst: 60, stall_ms: 300, max_connections_per_address: 4 } },
    config: { federation: { mode: "open", deny: ["evil.test"] } },
  });
});
afterAll(async () => h?.close());

const tcpPort = () => h.edge.ports.TCP!;

describe("inbound MESSAGE over TCP", () => {
  it("delivers a UTF-8 message as an inbound chat envelope and answers 200", async () => {
    const c = await RawSip.tcp(ADDR, tcpPort());
    const body = "Grüße, 世界 ✓";
    c.write(rawRequest({ body }));
    const rs = await c.next();
    expect(rs.status).toBe(200);
    expect(rs.headers.to?.params.tag).toBeTruthy();
    const e = h.recorder.delivered.at(-1)!;
    expect(e).toMatchObject({ direction: "inbound", protocol: "sip", kind: "message", type: "chat", from: "alice@partner.test", to: "bob@corp.test", partnerDomain: "partner.test", body });
    c.close();
  });

  it("answers a compliance block with 403 and a 399 Warning carrying the rule's text", async () => {
    const c = await RawSip.tcp(ADDR, tcpPort());
    const before = h.recorder.delivered.length;
    c.write(rawRequest({ body: "about project-x" }));
    const rs = await c.next();
    expect(rs.status).toBe(403);
    expect(String(rs.headers.warning)).toBe('399 corp.test "Rule \\"no-codenames\\": \\"project-x\\" may not leave the company"');
    expect(h.recorder.delivered.length).toBe(before);
    c.close();
  });

  it("maps delivery errors to SIP statuses (RFC 7572)", async () => {
    const c = await RawSip.tcp(ADDR, tcpPort());
    h.recorder.refuse = () => ({ condition: "item-not-found", type: "cancel" });
    c.write(rawRequest({ body: "hi" }));
    expect((await c.next()).status).toBe(404);
    h.recorder.refuse = () => ({ condition: "recipient-unavailable", type: "wait" });
    c.write(rawRequest({ body: "hi" }));
    expect((await c.next()).status).toBe(480);
    h.recorder.refuse = undefined;
    c.close();
  });

  it("absorbs a retransmitted request: one delivery, the same response again", async () => {
    const c = await RawSip.tcp(ADDR, tcpPort());
    const before = h.recorder.delivered.length;
    const rq = rawRequest({ body: "once", branch: "z9hG4bKretrans1" });
    c.write(rq);
    const first = await c.next();
    c.write(rq);
    const second = await c.next();
    expect(second.status).toBe(first.status);
    expect(second.headers.to?.params.tag).toBe(first.headers.to?.params.tag);
    expect(h.recorder.delivered.length).toBe(before + 1);
    c.close();
  });

  it("reads any text/* body: HTML as the text a reader sees (a word split by tags is one word), other charsets decoded", async () => {
    const c = await RawSip.tcp(ADDR, tcpPort());
    c.write(rawRequest({ body: "<p>the <b>project</b>-<i>x</i> &amp; more<!-- hidden --></p><script>x()</script>", contentType: "text/html; charset=UTF-8" }));
    const rs = await c.next();
    expect(rs.status).toBe(403);
    c.write(rawRequest({ body: "<p>caf&eacute; &#x2713; <a href='https://x.test/project-x'>link</a></p>", contentType: "text/html" }));
    expect((await c.next()).status).toBe(200);
    await until(() => h.recorder.delivered.some((e) => e.body === "caf&eacute; \u2713 link"));
    // Latin-1 bytes on the wire, not UTF-8.
    c.write(Buffer.from(rawRequest({ body: "Gr\xfc\xdfe", contentType: "text/plain;charset=ISO-8859-1", contentLength: 5 }), "latin1"));
    expect((await c.next()).status).toBe(200);
    await until(() => h.recorder.delivered.some((e) => e.body === "Grüße"));
    c.write(rawRequest({ body: "<bold>project</bold>-x", contentType: "text/enriched" }));
    expect((await c.next()).status).toBe(403);
    c.close();
  });

  it("refuses non-hosted targets, bad addresses and unsupported bodies", async () => {
    const c = await RawSip.tcp(ADDR, tcpPort());
    c.write(rawRequest({ uri: "sip:bob@elsewhere.test", body: "x" }));
    expect((await c.next()).status).toBe(404);
    c.write(rawRequest({ from: "sip:alice@corp.test", body: "x" }));
    expect((await c.next()).status).toBe(403);
    c.write(rawRequest({ uri: "sip:b%3Cad@corp.test", body: "x" }));
    expect((await c.next()).status).toBe(484);
    const binary = await (async () => {
      c.write(rawRequest({ body: "x", contentType: "application/octet-stream" }));
      return c.next();
    })();
    expect(binary.status).toBe(415);
    expect(binary.headers.accept).toBe("text/plain, text/html, text/enriched, text/richtext");
    c.write(rawRequest({ body: "x", contentType: "text/plain;charset=x-unknown-7" }));
    expect((await c.next()).status).toBe(415);
    c.write(rawRequest({ body: "" }));
    expect((await c.next()).status).toBe(400);
    c.close();
  });

  it("refuses a denied partner domain with 403 and the reason", async () => {
    const c = await RawSip.tcp(ADDR, tcpPort());
    c.write(rawRequest({ from: "sip:mallory@evil.test", body: "x" }));
    const rs = await c.next();
    expect(rs.status).toBe(403);
    expect(String(rs.headers.warning)).toContain("evil.test is not allowed to federate");
    c.close();
  });

  it("answers OPTIONS with Allow, unknown methods with 501 and INVITE with 405", async () => {
    const c = await RawSip.tcp(ADDR, tcpPort());
    c.write(rawRequest({ method: "OPTIONS" }));
    const opt = await c.next();
    expect(opt.status).toBe(200);
    expect(String(opt.headers.allow)).toContain("MESSAGE");
    c.write(rawRequest({ method: "FROBNICATE" }));
    expect((await c.next()).status).toBe(501);
    c.write(rawRequest({ method: "INVITE" }));
    expect((await c.next()).status).toBe(405);
    c.close();
  });
});

describe("bad input", () => {
  it("answers missing Call-ID and CSeq with 400 and keeps the connection", async () => {
    const c = await RawSip.tcp(ADDR, tcpPort());
    c.write(rawRequest({ body: "x", omit: ["Call-ID"] }));
    expect((await c.next()).status).toBe(400);
    c.write(rawRequest({ body: "x", omit: ["CSeq"] }));
    const rs = await c.next();
    expect(rs.status).toBe(400);
    expect(rs.reason).toContain("CSeq");
    c.write(rawRequest({ method: "OPTIONS" }));
    expect((await c.next()).status).toBe(200);
    c.close();
  });

  it("closes the connection on a missing Via or a bad start line", async () => {
    const a = await RawSip.tcp(ADDR, tcpPort());
    a.write(rawRequest({ body: "x", omit: ["Via"] }));
    expect(await a.waitClosed()).toBe(true);
    expect(a.received).toHaveLength(0);
    const b = await RawSip.tcp(ADDR, tcpPort());
    b.write(rawRequest({ body: "x", startLine: "HELLO THERE" }));
    expect(await b.waitClosed()).toBe(true);
  });

  it("answers a missing Content-Length with 400 and closes (RFC 3261 18.3)", async () => {
    const c = await RawSip.tcp(ADDR, tcpPort());
    c.write(rawRequest({ body: "x", omit: ["Content-Length"] }).replace(/x$/, ""));
    const rs = await c.next();
    expect(rs.status).toBe(400);
    expect(await c.waitClosed()).toBe(true);
  });

  it("answers a 1 MB body with 413 and closes without reading it", async () => {
    const c = await RawSip.tcp(ADDR, tcpPort());
    const big = "a".repeat(1024 * 1024);
    c.write(rawRequest({ body: big }));
    const rs = await c.next();
    expect(rs.status).toBe(413);
    expect(await c.waitClosed()).toBe(true);
  });

  it("a Content-Length shorter than the body desynchronises the stream: the rest is a bad start line", async () => {
    const c = await RawSip.tcp(ADDR, tcpPort());
    c.write(rawRequest({ body: "hello, world", contentLength: 5 }));
    const rs = await c.next();
    c.write(rawRequest({ method: "OPTIONS" }));
    expect(rs.status).toBe(200);
    expect(h.recorder.delivered.at(-1)!.body).toBe("hello");
    expect(await c.waitClosed()).toBe(true);
  });

  it("cuts a sender that declares a longer body and stalls", async () => {
    const c = await RawSip.tcp(ADDR, tcpPort());
    c.write(rawRequest({ body: "short", contentLength: 500 }));
    // The gateway answers another connection meanwhile: it is reading, and has not cut this one at once.
    const other = await RawSip.tcp(ADDR, tcpPort());
    other.write(rawRequest({ method: "OPTIONS" }));
    expect((await other.next()).status).toBe(200);
    other.close();
    expect(c.closed).toBe(false);
    expect(await c.waitClosed(2_000)).toBe(true);
    expect(c.received).toHaveLength(0);
  });

  it("refuses a flood from one address with 503 and survives", async () => {
    const c = await RawSip.tcp(ADDR, tcpPort());
    let payload = "";
    for (let i = 0; i < 200; i++) payload += rawRequest({ method: "OPTIONS" });
    const started = performance.now();
    c.write(payload);
    await until(() => (c.received.some((m) => m.status === 503) || c.closed || c.received.length >= 200 ? true : undefined), 5_000, "flood answers");
    const elapsed = performance.now() - started;
    const statuses = c.received.map((m) => m.status);
    // The burst of 60, plus what the bucket refilled at 1,000/s while the flood was being read: a bound that holds on a loaded machine too.
    expect(statuses.filter((s) => s === 200).length).toBeLessThanOrEqual(60 + Math.ceil(elapsed));
    expect(statuses.some((s) => s === 503) || c.closed).toBe(true);
    const refused = c.received.find((m) => m.status === 503);
    if (refused) expect(String(refused.headers["retry-after"])).toBe("5");
    c.close();
    // The process is unharmed: another address is still served.
    const other = await RawSip.tcp(ADDR, tcpPort(), "127.0.8.2");
    other.write(rawRequest({ method: "OPTIONS" }));
    expect((await other.next()).status).toBe(200);
    other.close();
  });

  it("closes connections beyond the per-address limit", async () => {
    const conns = await Promise.all(Array.from({ length: 5 }, () => RawSip.tcp(ADDR, tcpPort(), "127.0.8.4")));
    const closed = await Promise.all(conns.map((c) => c.waitClosed(300)));
    expect(closed.filter(Boolean)).toHaveLength(1);
    const open = conns.find((c, i) => !closed[i])!;
    open.write(rawRequest({ method: "OPTIONS" }));
    expect((await open.next()).status).toBe(200);
    for (const c of conns) c.close();
  });

  it("survives random garbage and mangled requests on TCP and UDP", async () => {
    let seed = 42;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    const valid = rawRequest({ body: "fuzz" });
    const samples: Buffer[] = [];
    for (let i = 0; i < 150; i++) {
      if (i % 3 === 0) samples.push(Buffer.from(Array.from({ length: 1 + Math.floor(rnd() * 600) }, () => Math.floor(rnd() * 256))));
      else {
        // Flip, drop or duplicate bytes of a valid request.
        const b = Buffer.from(valid);
        for (let k = 0; k < 1 + Math.floor(rnd() * 8); k++) b[Math.floor(rnd() * b.length)] = Math.floor(rnd() * 256);
        samples.push(i % 3 === 1 ? b : Buffer.concat([b.subarray(0, Math.floor(rnd() * b.length)), Buffer.from("\r\n\r\n")]));
      }
    }
    const { createSocket } = await import("node:dgram");
    const u = createSocket("udp4");
    await new Promise<void>((r) => u.bind(0, "127.0.8.3", () => r()));
    const answers: string[] = [];
    u.on("message", (m) => answers.push(m.toString("binary")));
    for (const b of samples) u.send(b, h.edge.ports.UDP!, ADDR);
    // A valid request after the garbage on the same socket: its answer means the datagrams before it were handled.
    u.send(rawRequest({ method: "OPTIONS", callId: "after-garbage@partner.test" }), h.edge.ports.UDP!, ADDR);
    for (let i = 0; i < 30; i++) {
      const c = await RawSip.tcp(ADDR, tcpPort(), "127.0.8.3");
      c.write(samples[i * 5]!);
      c.close();
    }
    await until(() => answers.some((a) => a.startsWith("SIP/2.0 200") && a.includes("after-garbage@partner.test")), 5_000, "the OPTIONS after the garbage to be answered");
    u.close();
    const probe = await RawSip.tcp(ADDR, tcpPort(), "127.0.8.2");
    probe.write(rawRequest({ method: "OPTIONS" }));
    expect((await probe.next()).status).toBe(200);
    probe.close();
  });

  it("answers UDP datagrams, and 400 for a Content-Length beyond the datagram", async () => {
    const { createSocket } = await import("node:dgram");
    const s = createSocket("udp4");
    await new Promise<void>((r) => s.bind(0, "127.0.8.3", () => r()));
    const got: string[] = [];
    s.on("message", (m) => got.push(m.toString("utf8")));
    s.send(rawRequest({ body: "over udp" }), h.edge.ports.UDP!, ADDR);
    s.send(rawRequest({ body: "abc", contentLength: 50 }), h.edge.ports.UDP!, ADDR);
    await until(() => (got.length >= 2 ? true : undefined), 3_000, "udp answers");
    expect(got.map((g) => g.split("\r\n")[0]).sort()).toEqual(["SIP/2.0 200 OK", "SIP/2.0 400 Invalid Content-Length"]);
    s.close();
  });
});
