import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect as tlsConnect, type ConnectionOptions, type TLSSocket } from "node:tls";
import { Raw, HEADER } from "./raw.js";
import { startBench, login, xml, isMsg, C2S_TLS_PORT, type Bench } from "./helpers.js";
import { until } from "../../helpers/wait.js";

const ADDRESS = "127.0.4.2";
let b: Bench;
const raws: Raw[] = [];
async function direct() {
  const r = await Raw.direct(ADDRESS, b.caPem);
  raws.push(r);
  return r;
}
const streamError = (r: Raw) => /<stream:error><([a-z-]+) /.exec(r.text)?.[1];

beforeAll(async () => {
  b = await startBench(ADDRESS, { c2s: { resume_timeout_s: 2 } });
  for (const u of ["alice", "bob"]) await b.addUser(u);
});
afterAll(async () => {
  for (const r of raws) r.destroy();
  await b?.close();
});

describe("c2s stream negotiation transcripts", () => {
  it("offers only STARTTLS (required) before TLS, and refuses SASL there with encryption-required", async () => {
    const r = await Raw.plain(ADDRESS);
    raws.push(r);
    r.write(HEADER);
    const features = await r.waitFor((e) => e.name === "stream:features");
    expect(features.getChild("starttls")?.getChild("required")).toBeDefined();
    expect(features.getChild("mechanisms")).toBeUndefined();
    r.write(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${Buffer.from("\0alice\0pw-alice").toString("base64")}</auth>`);
    const f = await r.waitFor((e) => e.name === "failure");
    expect(f.getChildElements()[0]!.name).toBe("encryption-required");
  });

  it("offers PLAIN only over TLS, beside SCRAM-SHA-256 and SCRAM-SHA-1", async () => {
    const r = await direct();
    r.write(HEADER);
    const features = await r.waitFor((e) => e.name === "stream:features");
    expect(features.getChild("mechanisms")!.getChildren("mechanism").map((m) => m.getText())).toEqual(["SCRAM-SHA-256", "SCRAM-SHA-1", "PLAIN"]);
  });

  it("refuses TLS older than 1.2 on both ports", async () => {
    // The client is made able to speak TLS 1.1 (security level 0), so the refusal is the server's.
    const old: ConnectionOptions = { ca: [b.caPem], servername: "corp.test", maxVersion: "TLSv1.1", minVersion: "TLSv1", ciphers: "DEFAULT@SECLEVEL=0" };
    const handshake = (socket: TLSSocket) =>
      new Promise<void>((res, rej) => (socket.once("secureConnect", () => res()), socket.once("error", rej))).finally(() => socket.destroy());
    await expect(handshake(tlsConnect({ host: ADDRESS, port: C2S_TLS_PORT, ...old }))).rejects.toThrow(/protocol version/);
    const r = await Raw.plain(ADDRESS);
    raws.push(r);
    r.write(HEADER);
    await r.waitFor((e) => e.name === "stream:features" || e.name === "features");
    r.write("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
    await r.waitFor((e) => e.name === "proceed");
    await expect(handshake(tlsConnect({ socket: r.socket, ...old }))).rejects.toThrow(/protocol version/);
  });

  it("answers a stream to an unknown domain with host-unknown", async () => {
    const r = await direct();
    r.write(HEADER.replace("to='corp.test'", "to='elsewhere.test'"));
    await r.waitClosed();
    expect(streamError(r)).toBe("host-unknown");
  });

  it("closes with not-authorized when a stanza comes before authentication", async () => {
    const r = await direct();
    r.write(HEADER);
    await r.waitFor((e) => e.name === "stream:features");
    r.write("<message to='bob@corp.test'><body>sneaky</body></message>");
    await r.waitClosed();
    expect(streamError(r)).toBe("not-authorized");
  });

  it("refuses restricted XML and unknown top-level elements with the RFC 6120 conditions", async () => {
    const r1 = await direct();
    await r1.login("alice", "pw-alice", "x1");
    r1.write("<!-- a comment -->");
    await r1.waitClosed();
    expect(streamError(r1)).toBe("restricted-xml");
    const r2 = await direct();
    await r2.login("alice", "pw-alice", "x2");
    r2.write("<frobnicate/>");
    await r2.waitClosed();
    expect(streamError(r2)).toBe("unsupported-stanza-type");
  });

  it("closes at once with not-well-formed when an HTTP request comes instead of a stream header (RFC 6120 4.9.3.13)", async () => {
    for (const open of [() => Raw.plain(ADDRESS), () => Raw.direct(ADDRESS, b.caPem)]) {
      const r = await open();
      raws.push(r);
      const started = Date.now();
      r.write("GET / HTTP/1.1\r\nHost: corp.test\r\n\r\n");
      await r.waitClosed(3_000);
      expect(streamError(r)).toBe("not-well-formed");
      // At once: not after some timeout for a header that never comes.
      expect(Date.now() - started).toBeLessThan(1_000);
    }
  });

  it("closes the stream after repeated SASL failures", async () => {
    const r = await direct();
    r.write(HEADER);
    await r.waitFor((e) => e.name === "stream:features");
    for (let i = 0; i < 3; i++) r.write(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${Buffer.from("\0bob\0nope").toString("base64")}</auth>`);
    await r.waitClosed(10_000);
    expect(streamError(r)).toBe("policy-violation");
    expect(r.elements.filter((e) => e.name === "failure")).toHaveLength(3);
  });
});

describe("XEP-0198 stream management", () => {
  it("resumes a dropped session and sends again what was not acknowledged", async () => {
    const r = await direct();
    await r.login("bob", "pw-bob", "phone");
    r.write("<enable xmlns='urn:xmpp:sm:3' resume='true'/>");
    const enabled = await r.waitFor((e) => e.name === "enabled");
    expect(enabled.attrs.resume).toBe("true");
    r.write("<presence/>");
    const a = await login(b, "alice", { resource: "sm" });
    await a.send(xml("message", { to: "bob@corp.test/phone", type: "chat" }, xml("body", {}, "are you there?")));
    await r.waitFor(isMsg("are you there?"));
    r.destroy(); // dropped without acknowledging
    await r.waitClosed();
    const r2 = await direct();
    await r2.login("bob", "pw-bob", "");
    r2.write(`<resume xmlns='urn:xmpp:sm:3' previd='${enabled.attrs.id}' h='0'/>`);
    const resumed = await r2.waitFor((e) => e.name === "resumed");
    expect(resumed.attrs.h).toBe("1"); // the presence we sent was counted
    await r2.waitFor(isMsg("are you there?"));
    // The resumed session is live: new messages arrive on the new connection.
    await a.send(xml("message", { to: "bob@corp.test/phone", type: "chat" }, xml("body", {}, "welcome back")));
    await r2.waitFor(isMsg("welcome back"));
    // The server asks for acknowledgements by itself, so its queue stays short.
    await r2.waitFor((e) => e.name === "r", 2_000);
    r2.write("<r xmlns='urn:xmpp:sm:3'/>");
    expect((await r2.waitFor((e) => e.name === "a")).attrs.h).toBe("1");
    // Acknowledge both messages, then leave cleanly: nothing is left to re-deliver.
    r2.write("<a xmlns='urn:xmpp:sm:3' h='2'/></stream:stream>");
    await r2.waitClosed();
    await a.stop();
    expect(await b.core.store.countOffline("bob@corp.test")).toBe(0);
  });

  it("counts IQ results and stanza errors it sends, so a client acknowledging everything it received keeps its stream", async () => {
    const r = await direct();
    await r.login("bob", "pw-bob", "count");
    r.write("<enable xmlns='urn:xmpp:sm:3'/>");
    await r.waitFor((e) => e.name === "enabled");
    r.write("<iq type='get' id='p1' to='corp.test'><ping xmlns='urn:xmpp:ping'/></iq>");
    await r.waitFor((e) => e.name === "iq" && e.attrs.id === "p1" && e.attrs.type === "result");
    r.write("<message to='nobody@corp.test' type='chat' id='m1'><body>hello?</body></message>");
    const err = await r.waitFor((e) => e.name === "message" && e.attrs.id === "m1" && e.attrs.type === "error");
    expect(err.getChild("error")?.getChild("service-unavailable")).toBeDefined();
    // Both count (XEP-0198 section 4): the server asks, and h=2 acknowledges exactly what it sent.
    await r.waitFor((e) => e.name === "r", 2_000);
    r.write("<a xmlns='urn:xmpp:sm:3' h='2'/><presence/>");
    const a = await login(b, "alice", { resource: "count" });
    await a.send(xml("message", { to: "bob@corp.test/count", type: "chat" }, xml("body", {}, "still there?")));
    await r.waitFor(isMsg("still there?"));
    expect(streamError(r)).toBeUndefined();
    await a.stop();
    // Acknowledge every stanza received since <enabled/> and leave cleanly, so nothing is re-delivered offline.
    const sinceEnabled = r.elements.slice(r.elements.findIndex((e) => e.name === "enabled") + 1);
    const h = sinceEnabled.filter((e) => ["iq", "message", "presence"].includes(e.name)).length;
    r.write(`<a xmlns='urn:xmpp:sm:3' h='${h}'/></stream:stream>`);
    await r.waitClosed();
    expect(streamError(r)).toBeUndefined();
    expect(await b.core.store.countOffline("bob@corp.test")).toBe(0);
  });

  it("refuses an unknown resumption id, and re-delivers unacknowledged messages offline when the session times out", async () => {
    const r = await direct();
    await r.login("bob", "pw-bob", "lost");
    r.write(`<enable xmlns='urn:xmpp:sm:3' resume='true'/><presence/>`);
    await r.waitFor((e) => e.name === "enabled");
    const a = await login(b, "alice", { resource: "sm2" });
    await a.send(xml("message", { to: "bob@corp.test/lost", type: "chat" }, xml("body", {}, "unacked")));
    await r.waitFor(isMsg("unacked"));
    r.destroy();
    const r2 = await direct();
    await r2.login("bob", "pw-bob", "");
    r2.write(`<resume xmlns='urn:xmpp:sm:3' previd='nope' h='0'/>`);
    expect((await r2.waitFor((e) => e.name === "failed")).getChild("item-not-found")).toBeDefined();
    await until(async () => (await b.core.store.countOffline("bob@corp.test")) > 0, 6_000, "the unacknowledged message to go offline");
    expect(await b.core.store.countOffline("bob@corp.test")).toBe(1);
    await a.stop();
  });
});
