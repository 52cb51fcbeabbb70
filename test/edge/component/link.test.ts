/**
 * The XEP-0114 component link against a scripted server on loopback: the
 * handshake, stanzas both ways, a character split across TCP chunks, a
 * refused secret (one log line, growing delays), and reconnecting after the
 * server drops the stream.
 */
import { afterEach, describe, expect, it } from "vitest";
import { pino } from "pino";
import { ComponentLink, type LinkOptions } from "../../../src/edge/component/link.js";
import { xml, type Element } from "../../../src/xmpp/index.js";
import { startComponentServer, type ComponentServer } from "../../helpers/component-server.js";

const logs: Record<string, unknown>[] = [];
const log = pino({ level: "debug" }, { write: (line: string) => void logs.push(JSON.parse(line) as Record<string, unknown>) });

let server: ComponentServer | undefined;
let link: ComponentLink | undefined;

afterEach(async () => {
  await link?.stop();
  await server?.close();
  link = server = undefined;
  logs.length = 0;
});

function makeLink(s: ComponentServer, over: Partial<LinkOptions> = {}): ComponentLink {
  return new ComponentLink({
    log,
    domain: "partner.test",
    host: s.host,
    port: s.port,
    secret: "right",
    serverDomain: "corp.test",
    maxStanzaBytes: 65_536,
    connectTimeoutMs: 2_000,
    reconnectInitialMs: 50,
    reconnectMaxMs: 400,
    maxUnsentBytes: 1_000_000,
    ...over,
  });
}

describe("component link", () => {
  it("completes the handshake and carries stanzas both ways, a character split across chunks intact", async () => {
    server = await startComponentServer("right");
    link = makeLink(server);
    const got: Element[] = [];
    link.on("stanza", (el) => got.push(el));
    link.start();
    expect(await link.waitOnline(3_000)).toBe(true);
    link.send(xml("message", { from: "bob@partner.test", to: "alice@corp.test" }, xml("body", {}, "out")));
    await server.waitFor(() => server!.received.length === 1);
    expect(server.received[0]!.getChildText("body")).toBe("out");

    // "é" is 0xC3 0xA9: the two bytes arrive in separate TCP writes.
    const bytes = Buffer.from("<message from='alice@corp.test' to='bob@partner.test'><body>caf\u00e9</body></message>");
    const cut = bytes.indexOf(0xa9);
    server.writeRaw(bytes.subarray(0, cut));
    await new Promise((r) => setImmediate(r));
    server.writeRaw(bytes.subarray(cut));
    const el = await server.waitFor(() => got[0]);
    expect(el.getChildText("body")).toBe("caf\u00e9");
  });

  it("confirms what it wrote once the server answers a ping sent after it, and reports writes lost unconfirmed", async () => {
    server = await startComponentServer("right");
    link = makeLink(server);
    link.start();
    expect(await link.waitOnline(3_000)).toBe(true);
    for (let i = 0; i < 3; i++) link.send(xml("message", { from: "bob@partner.test", to: "alice@corp.test" }, xml("body", {}, `m${i}`)));
    await link.confirm();
    // The server read the three before it answered the one ping that covers them.
    expect(server.received).toHaveLength(3);
    expect(server.pings).toBe(1);
    await link.confirm();
    expect(server.pings).toBe(1);

    server.answerPings = false;
    link.send(xml("message", { from: "bob@partner.test", to: "alice@corp.test" }, xml("body", {}, "never confirmed")));
    const unconfirmed = new Promise<number>((r) => link!.once("unconfirmed", r));
    const waiting = link.confirm();
    await server.waitFor(() => server!.received.length === 5 || undefined);
    server.dropAll();
    expect(await unconfirmed).toBe(1);
    await waiting;
  });

  it("logs a refused secret once and retries with growing delays", async () => {
    server = await startComponentServer("right");
    link = makeLink(server, { secret: "wrong" });
    link.start();
    await server.waitFor(() => server!.attempts.length >= 5 || undefined, 10_000);
    expect(link.state).not.toBe("online");
    const refused = logs.filter((l) => String(l.msg).startsWith("internal server refused the component secret"));
    expect(refused).toHaveLength(1);
    expect(refused[0]).toMatchObject({ level: 50, link: `partner.test@127.0.0.1:${server.port}` });
    // Delays grow (with jitter of at most half) up to reconnectMaxMs; never a tight loop.
    const gaps = server.attempts.slice(1).map((t, i) => t - server!.attempts[i]!);
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(20);
    expect(gaps[3]!).toBeGreaterThanOrEqual(150);
    expect(link.problem).toMatch(/not-authorized/);
  });

  it("reconnects after the server drops the stream, and refuses to send while down", async () => {
    server = await startComponentServer("right");
    link = makeLink(server);
    link.start();
    expect(await link.waitOnline(3_000)).toBe(true);
    const offline = new Promise<string>((r) => link!.once("offline", r));
    server.dropAll();
    expect(await offline).toBe("connection closed");
    expect(() => link!.send(xml("message", { to: "x@corp.test" }))).toThrow(/not online/);
    expect(await link.waitOnline(3_000)).toBe(true);
    expect(server.attempts).toHaveLength(2);
  });

  it("backs off when nothing listens, and says why", async () => {
    const probe = await startComponentServer("right");
    const port = probe.port;
    await probe.close();
    link = makeLink({ host: "127.0.0.1", port } as ComponentServer);
    link.start();
    const deadline = Date.now() + 3_000;
    while (link.state !== "backoff" && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    expect(link.state).toBe("backoff");
    expect(link.problem).toMatch(/ECONNREFUSED/);
    expect(await link.waitOnline(100)).toBe(false);
    expect(logs.find((l) => l.msg === "component stream not established")).toMatchObject({ level: 40, reason: expect.stringMatching(/ECONNREFUSED/) });
  });
});
