/**
 * Bad input on the s2s listeners: each case gets its RFC 6120 stream error
 * and a closed stream, and the gateway keeps serving new streams.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createTestCa, type TestCa } from "../../helpers/ca.js";
import { startDnsServer, type DnsServerHandle } from "../../helpers/dns-server.js";
import { startTestGateway, type TestGateway } from "../../helpers/xmpp-gateway.js";
import { RawPeer, header } from "../../helpers/xmpp-raw.js";
import { until } from "../../helpers/wait.js";

const DEMARC = "127.0.3.20";
const PORT = 15269;
const DIRECT = 15270;

let gw: TestGateway;
let dns: DnsServerHandle;
let ca: TestCa;
let rogue: TestCa;
let partnerCert: { cert: string; key: string };

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), "s2s-guard-"));
  ca = createTestCa(join(dir, "ca"));
  rogue = createTestCa(join(dir, "rogue"));
  const own = ca.issue({ name: "corp", domains: ["corp.test"] });
  partnerCert = ca.issue({ name: "bank", domains: ["bank.test"] });
  dns = await startDnsServer("127.0.3.22", {});
  gw = await startTestGateway({
    domains: ["corp.test"],
    tls: { certificates: [{ cert: own.certPath, key: own.keyPath }], trust: { system: false, ca_files: [ca.certPath] } },
    dns: { servers: [dns.server], timeout_ms: 500 },
    s2s: {
      starttls: { host: DEMARC, port: PORT },
      direct_tls: { host: DEMARC, port: DIRECT },
      auth_timeout_ms: 1_000,
      max_streams_per_ip: 8,
    },
    federation: { deny: ["evil.test"] },
    partners: [
      { domain: "bank.test", auth: ["certificate"], rate: 50, burst: 10 },
      { domain: "small.test", max_stanza_bytes: 4096 },
    ],
  });
});

afterAll(async () => {
  await gw?.close();
  await dns?.close();
});

async function opened(from: string | undefined = "bank.test", to = "corp.test"): Promise<RawPeer> {
  const p = await RawPeer.connect(DEMARC, PORT);
  await p.write(header(from, to));
  return p;
}

async function expectStreamError(p: RawPeer, condition: string): Promise<void> {
  await p.expect(/<\/stream:stream>/);
  expect(p.streamError()).toBe(condition);
  await p.waitClosed();
}

/** A stream from bank.test authenticated with SASL EXTERNAL (XEP-0178). */
async function authenticated(cert = partnerCert): Promise<RawPeer> {
  const p = await opened();
  await p.expect(/<starttls/);
  await p.starttls({ ca: ca.certPem, cert: cert.cert, key: cert.key, servername: "corp.test" });
  await p.write(header("bank.test", "corp.test"));
  await p.expect(/<\/stream:features>|<stream:features\/>/);
  return p;
}

/** authenticated(), then SASL EXTERNAL and the stream restart. */
async function saslAuthenticated(): Promise<RawPeer> {
  const p = await authenticated();
  await p.write(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='EXTERNAL'>=</auth>`);
  await p.expect(/<success/);
  p.text = "";
  await p.write(header("bank.test", "corp.test"));
  await p.expect(/<stream:features/);
  return p;
}

describe("s2s listener refuses bad input", () => {
  it("malformed XML: not-well-formed", async () => {
    const p = await opened();
    await p.write("<message><body>x</mess>");
    await expectStreamError(p, "not-well-formed");
  });

  it("an HTTP request instead of a stream header: not-well-formed at once (RFC 6120 4.9.3.13)", async () => {
    for (const port of [PORT, DIRECT]) {
      const p = port === PORT ? await RawPeer.connect(DEMARC, port) : await RawPeer.connectTls(DEMARC, port, { ca: ca.certPem, servername: "corp.test" });
      const started = Date.now();
      await p.write("GET / HTTP/1.1\r\nHost: corp.test\r\n\r\n");
      await expectStreamError(p, "not-well-formed");
      // At once: the auth timeout here is 1 s, the header timeout longer.
      expect(Date.now() - started).toBeLessThan(900);
    }
  });

  it("a DOCTYPE: restricted-xml", async () => {
    const p = await RawPeer.connect(DEMARC, PORT);
    await p.write("<?xml version='1.0'?><!DOCTYPE lol [<!ENTITY lol 'lol'>]>");
    await expectStreamError(p, "restricted-xml");
    // Section 4.9.1.1: a header goes out before the error even when the peer never sent one.
    expect(p.text).toMatch(/^<\?xml version='1.0'\?><stream:stream /);
  });

  it("a comment: restricted-xml", async () => {
    const p = await opened();
    await p.write("<!-- x -->");
    await expectStreamError(p, "restricted-xml");
  });

  it("an unknown entity: not-well-formed", async () => {
    const p = await opened();
    await p.write("<message to='a@corp.test'><body>&xxe;</body></message>");
    await expectStreamError(p, "not-well-formed");
  });

  it("invalid UTF-8: not-well-formed", async () => {
    const p = await opened();
    await p.write(Buffer.from([0x3c, 0x61, 0x3e, 0xff, 0xfe, 0x3c, 0x2f, 0x61, 0x3e]));
    await expectStreamError(p, "not-well-formed");
  });

  it("a 10 MB stanza: policy-violation, without reading it all", async () => {
    const p = await opened();
    await p.write("<message to='bob@corp.test'><body>");
    const chunk = Buffer.alloc(256 * 1024, "a");
    let sent = 0;
    for (let i = 0; i < 40 && !p.closed; i++) {
      if (!(await p.write(chunk))) break;
      sent += chunk.length;
    }
    await expectStreamError(p, "policy-violation");
    expect(p.text).toMatch(/larger than 262144 bytes/);
    expect(sent).toBeLessThan(10 * 1024 * 1024);
  });

  it("a stanza over the partner's own, smaller limit: policy-violation", async () => {
    const p = await opened("small.test");
    await p.expect(/<stream:features>/);
    await p.write(`<message to='bob@corp.test'><body>${"x".repeat(5000)}</body></message>`);
    await expectStreamError(p, "policy-violation");
    expect(p.text).toMatch(/larger than 4096 bytes/);
  });

  it("a stream to a domain we do not host: host-unknown", async () => {
    const p = await opened("bank.test", "elsewhere.test");
    await expectStreamError(p, "host-unknown");
  });

  it("a denied partner: policy-violation", async () => {
    const p = await opened("evil.test");
    await expectStreamError(p, "policy-violation");
  });

  it("plaintext where TLS is required: policy-violation", async () => {
    const p = await opened();
    await p.expect(/<required\/>/);
    await p.write("<message from='x@bank.test' to='bob@corp.test'><body>hi</body></message>");
    await expectStreamError(p, "policy-violation");
    expect(p.text).toMatch(/TLS is required/);
  });

  it("plaintext where TLS is required: a dialback verify request is not answered either", async () => {
    const p = await opened();
    await p.expect(/<required\/>/);
    await p.write("<db:verify from='bank.test' to='corp.test' id='S1'>0123456789abcdef</db:verify>");
    await expectStreamError(p, "policy-violation");
    expect(p.text).not.toMatch(/<db:verify [^>]*type=/);
  });

  it("a slowloris that never finishes the stream header: connection-timeout", async () => {
    const p = await RawPeer.connect(DEMARC, PORT);
    const h = header("bank.test", "corp.test");
    for (let i = 0; i < 12 && !p.closed; i++) {
      await p.write(h[i]!);
      await new Promise((r) => setTimeout(r, 100));
    }
    await expectStreamError(p, "connection-timeout");
  });

  it("a stream that never authenticates: connection-timeout", async () => {
    const p = await opened();
    await p.expect(/<stream:features>/);
    await expectStreamError(p, "connection-timeout");
  });

  it("accepts SASL EXTERNAL with a trusted certificate, then refuses a from-domain not authenticated on the stream: invalid-from", async () => {
    const p = await authenticated();
    expect(p.text).toMatch(/<mechanism>EXTERNAL<\/mechanism>/);
    expect(p.text).not.toMatch(/urn:xmpp:features:dialback/);
    p.text = "";
    await p.write(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='EXTERNAL'>${Buffer.from("bank.test").toString("base64")}</auth>`);
    await p.expect(/<success/);
    p.text = "";
    await p.write(header("bank.test", "corp.test"));
    await p.expect(/<stream:features/);
    await p.write("<message from='teller@bank.test/x' to='bob@corp.test' type='chat'><body>legit</body></message>");
    const env = await gw.sink.waitFor((e) => e.body === "legit");
    expect(env.security?.auth).toBe("certificate");
    await p.write("<message from='mallory@evil.test' to='bob@corp.test'><body>spoof</body></message>");
    await expectStreamError(p, "invalid-from");
    expect(gw.sink.delivered.some((e) => e.body === "spoof")).toBe(false);
  });

  it("refuses a stanza without addresses (improper-addressing) and one for a domain not hosted here (host-unknown)", async () => {
    for (const [stanza, condition] of [
      ["<message to='bob@corp.test'><body>x</body></message>", "improper-addressing"],
      ["<message from='t@bank.test' to='bob@elsewhere.test'><body>x</body></message>", "host-unknown"],
    ] as const) {
      const p = await saslAuthenticated();
      await p.write(stanza);
      await expectStreamError(p, condition);
    }
  });

  it("paces a partner to its rate by pausing reads, losing nothing and keeping order", async () => {
    const p = await saslAuthenticated();
    const n = 60;
    const t0 = Date.now();
    await p.write(Array.from({ length: n }, (_, i) => `<message from='t@bank.test/x' to='carol@corp.test' type='chat'><body>r${i}</body></message>`).join(""));
    await gw.sink.waitFor((e) => e.body === `r${n - 1}`, 10_000);
    // 10 at once (burst), then 50 per second.
    expect(Date.now() - t0).toBeGreaterThanOrEqual(700);
    const bodies = gw.sink.delivered.filter((e) => e.to === "carol@corp.test").map((e) => e.body);
    expect(bodies).toEqual(Array.from({ length: n }, (_, i) => `r${i}`));
    p.destroy();
  });

  it("refuses dialback from a partner that must use certificates", async () => {
    // No 'from' in the header: features cannot be chosen per partner, so dialback is offered and then refused.
    const p = await RawPeer.connect(DEMARC, PORT);
    await p.write(header(undefined, "corp.test"));
    await p.expect(/<starttls/);
    await p.starttls({ ca: ca.certPem, servername: "corp.test" });
    await p.write(header(undefined, "corp.test"));
    await p.expect(/urn:xmpp:features:dialback/);
    await p.write("<db:result from='bank.test' to='corp.test'>abcdef</db:result>");
    await p.expect(/<db:result[^>]*type=["']error["']/);
    expect(p.text).toMatch(/not-authorized/);
    p.destroy();
  });

  it("refuses a certificate-only partner at once when its certificate names another domain or comes from an untrusted CA", async () => {
    const cases: [{ cert: string; key: string }, RegExp][] = [
      [ca.issue({ name: "bank-other", domains: ["other.test"] }), /does not name bank\.test/],
      [rogue.issue({ name: "bank-rogue", domains: ["bank.test"] }), /not trusted/],
    ];
    for (const [cert, reason] of cases) {
      const p = await opened();
      await p.expect(/<starttls/);
      await p.starttls({ ca: ca.certPem, cert: cert.cert, key: cert.key, servername: "corp.test" });
      await p.write(header("bank.test", "corp.test"));
      await expectStreamError(p, "not-authorized");
      expect(p.text).toMatch(reason);
      expect(p.text).not.toMatch(/EXTERNAL/);
    }
  });

  it("answers SASL EXTERNAL without a usable certificate with a SASL failure", async () => {
    const p = await RawPeer.connect(DEMARC, PORT);
    await p.write(header(undefined, "corp.test"));
    await p.expect(/<starttls/);
    await p.starttls({ ca: ca.certPem, servername: "corp.test" });
    await p.write(header(undefined, "corp.test"));
    await p.expect(/<\/stream:features>/);
    await p.write(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='EXTERNAL'>${Buffer.from("bank.test").toString("base64")}</auth>`);
    await p.expect(/<failure xmlns=["']urn:ietf:params:xml:ns:xmpp-sasl["']><not-authorized/);
    await p.write("<message from='x@bank.test' to='bob@corp.test'><body>no</body></message>");
    await expectStreamError(p, "not-authorized");
  });

  it("offers direct TLS (XEP-0368) with the hosted domain's certificate by SNI", async () => {
    const p = await RawPeer.connectTls(DEMARC, DIRECT, { ca: ca.certPem, cert: partnerCert.cert, key: partnerCert.key, servername: "corp.test" });
    await p.write(header("bank.test", "corp.test"));
    await p.expect(/<mechanism>EXTERNAL<\/mechanism>/);
    expect(p.text).not.toMatch(/<starttls/);
    p.destroy();
  });

  it("refuses TLS older than 1.2 on both listeners", async () => {
    // The client is made able to speak TLS 1.1 (security level 0), so the refusal is the server's.
    const old = { ca: ca.certPem, servername: "corp.test", maxVersion: "TLSv1.1", minVersion: "TLSv1", ciphers: "DEFAULT@SECLEVEL=0" } as const;
    await expect(RawPeer.connectTls(DEMARC, DIRECT, old)).rejects.toThrow(/protocol version/);
    const p = await opened();
    await p.expect(/<starttls/);
    await expect(p.starttls(old)).rejects.toThrow(/protocol version/);
    p.destroy();
  });

  it("limits streams per address: policy-violation", async () => {
    const peers = await Promise.all(Array.from({ length: 8 }, () => opened()));
    await Promise.all(peers.map((p) => p.expect(/<stream:features>/)));
    const extra = await RawPeer.connect(DEMARC, PORT);
    await expectStreamError(extra, "policy-violation");
    for (const p of peers) p.destroy();
    // The slots come back once the gateway has seen those connections close.
    await until(async () => (await gw.inboundStreams()) === 0, 5_000, "the gateway to see the streams close");
    const probe = await opened();
    await probe.expect(/<stream:features>|too many streams/);
    probe.destroy();
    expect(probe.text).not.toMatch(/too many streams/);
  });

  it("applies a reloaded partner list to new streams", async () => {
    const before = gw.ctx.config.federation;
    await gw.reload({ federation: { ...before, deny: [...before.deny, "bank.test"] } });
    try {
      const p = await opened();
      await expectStreamError(p, "policy-violation");
      expect(p.text).toMatch(/federation with bank\.test is denied/);
    } finally {
      await gw.reload({ federation: before });
    }
  });

  it("cuts off a stream already open when a reload denies its partner: nothing more from it crosses", async () => {
    const p = await saslAuthenticated();
    await p.write("<message from='teller@bank.test/x' to='bob@corp.test' type='chat'><body>before the deny</body></message>");
    await gw.sink.waitFor((e) => e.body === "before the deny");
    const before = gw.ctx.config.federation;
    await gw.reload({ federation: { ...before, deny: [...before.deny, "bank.test"] } });
    try {
      await p.write("<message from='teller@bank.test/x' to='bob@corp.test' type='chat'><body>after the deny</body></message>");
      await expectStreamError(p, "policy-violation");
      expect(p.text).toMatch(/federation with bank\.test is denied/);
      expect(gw.sink.delivered.some((e) => e.body === "after the deny")).toBe(false);
    } finally {
      await gw.reload({ federation: before });
    }
  });

  it("is still serving after all of the above", async () => {
    // Every earlier stream closed (within the per-address limit again).
    await until(async () => (await gw.inboundStreams()) === 0, 5_000, "earlier streams to close");
    const p = await opened();
    await p.expect(/<stream:features><starttls xmlns=["']urn:ietf:params:xml:ns:xmpp-tls["']><required\/><\/starttls><\/stream:features>/);
    p.destroy();
  });
});
