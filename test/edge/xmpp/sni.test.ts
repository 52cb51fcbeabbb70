/**
 * SNI on both s2s listeners over real handshakes (README, XMPP federation:
 * "SNI picks the certificate of the requested hosted domain"): one gateway
 * hosts corp.test and sales.test, each with a certificate of its own that
 * names only itself, so a wrong pick shows in the certificate presented.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { checkServerIdentity } from "node:tls";
import { createTestCa, type TestCa } from "../../helpers/ca.js";
import { startTestGateway, type TestGateway } from "../../helpers/xmpp-gateway.js";
import { RawPeer, header } from "../../helpers/xmpp-raw.js";

const DEMARC = "127.0.24.1";
const PORT = 15269;
const DIRECT = 15270;
const HOSTED = ["corp.test", "sales.test"] as const;

let gw: TestGateway;
let ca: TestCa;
let bank: { cert: string; key: string };

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), "s2s-sni-"));
  ca = createTestCa(join(dir, "ca"));
  const corp = ca.issue({ name: "corp", domains: ["corp.test"] });
  const sales = ca.issue({ name: "sales", domains: ["sales.test"] });
  bank = ca.issue({ name: "bank", domains: ["bank.test"] });
  gw = await startTestGateway({
    domains: [...HOSTED],
    // sales first: a fallback to the first hosted domain's certificate is then told apart from "the first file listed".
    tls: {
      certificates: [
        { cert: sales.certPath, key: sales.keyPath },
        { cert: corp.certPath, key: corp.keyPath },
      ],
      trust: { system: false, ca_files: [ca.certPath] },
    },
    s2s: { starttls: { host: DEMARC, port: PORT }, direct_tls: { host: DEMARC, port: DIRECT }, auth_timeout_ms: 5_000 },
    // Certificate-only, so EXTERNAL being offered proves the SNI-chosen context verified the client certificate too.
    partners: [{ domain: "bank.test", auth: ["certificate"] }],
  });
});

afterAll(async () => {
  await gw?.close();
});

// Node's own check would throw on a mismatch before the test could say which certificate came; the name is asserted below.
const tlsOpts = (servername: string) => ({ ca: ca.certPem, cert: bank.cert, key: bank.key, servername, checkServerIdentity: () => undefined });

function direct(servername: string): Promise<RawPeer> {
  return RawPeer.connectTls(DEMARC, DIRECT, tlsOpts(servername));
}

/** STARTTLS after a stream header to `streamTo`, then the handshake with `servername`. */
async function starttls(servername: string, streamTo = servername): Promise<RawPeer> {
  const p = await RawPeer.connect(DEMARC, PORT);
  await p.write(header("bank.test", streamTo));
  await p.expect(/<starttls/);
  await p.starttls(tlsOpts(servername));
  return p;
}

/** The server certificate's subjectAltName, after checking the chain verified against the test CA. */
function presented(p: RawPeer): string {
  const tls = p.tls!;
  expect(tls.authorized, String(tls.authorizationError)).toBe(true);
  return tls.getPeerCertificate().subjectaltname ?? "";
}

function expectCertificateOf(p: RawPeer, domain: string): void {
  expect(presented(p)).toBe(`DNS:${domain}`);
  // Node's RFC 6125 DNS-ID check agrees, independently of the string compare.
  expect(checkServerIdentity(domain, p.tls!.getPeerCertificate())).toBeUndefined();
}

/** XEP-0178 on the secured stream, then a message to a user of `domain` that must reach the router. */
async function saslAndDeliver(p: RawPeer, domain: string, body: string): Promise<void> {
  await p.write(header("bank.test", domain));
  await p.expect(/<\/stream:features>/);
  expect(p.text).toMatch(/<mechanism>EXTERNAL<\/mechanism>/);
  await p.write(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='EXTERNAL'>=</auth>`);
  await p.expect(/<success/);
  p.text = "";
  await p.write(header("bank.test", domain));
  await p.expect(/<stream:features/);
  await p.write(`<message from='teller@bank.test/x' to='bob@${domain}' type='chat'><body>${body}</body></message>`);
  const env = await gw.sink.waitFor((e) => e.body === body);
  expect(env).toMatchObject({ to: `bob@${domain}`, partnerDomain: "bank.test" });
  expect(env.security?.auth).toBe("certificate");
}

describe("s2s SNI with two hosted domains and two certificates", () => {
  for (const domain of HOSTED) {
    it(`direct TLS (XEP-0368) with SNI ${domain} presents ${domain}'s certificate and serves the stream`, async () => {
      const p = await direct(domain);
      try {
        expectCertificateOf(p, domain);
        await saslAndDeliver(p, domain, `direct ${domain}`);
      } finally {
        p.destroy();
      }
    });

    it(`STARTTLS with SNI ${domain} presents ${domain}'s certificate and serves the stream`, async () => {
      const p = await starttls(domain);
      try {
        expectCertificateOf(p, domain);
        await saslAndDeliver(p, domain, `starttls ${domain}`);
      } finally {
        p.destroy();
      }
    });
  }

  it("matches the SNI case-insensitively (RFC 4343)", async () => {
    for (const p of [await direct("Sales.TEST"), await starttls("Sales.TEST", "sales.test")]) {
      expectCertificateOf(p, "sales.test");
      p.destroy();
    }
  });

  it("an SNI that is not hosted gets the first hosted domain's certificate, and the stream to it host-unknown", async () => {
    // README promises the pick for hosted domains only: TLS does not refuse, the stream header does.
    const d = await direct("elsewhere.test");
    expectCertificateOf(d, "corp.test");
    await d.write(header("bank.test", "elsewhere.test"));
    await d.expect(/<\/stream:stream>/);
    expect(d.streamError()).toBe("host-unknown");
    await d.waitClosed();
    // The header said sales.test, yet the fallback is corp.test's: the certificate follows the SNI, not the stream's 'to'.
    const s = await starttls("elsewhere.test", "sales.test");
    expectCertificateOf(s, "corp.test");
    s.destroy();
  });

  it("no SNI at all (a peer dialling an address) gets the first hosted domain's certificate on both listeners", async () => {
    for (const p of [await direct(""), await starttls("", "sales.test")]) {
      expectCertificateOf(p, "corp.test");
      p.destroy();
    }
  });

  it("still chooses by SNI after a reload rebuilds the TLS contexts", async () => {
    await gw.s2s.reload!(gw.ctx);
    const d = await direct("sales.test");
    expectCertificateOf(d, "sales.test");
    await saslAndDeliver(d, "sales.test", "direct after reload");
    d.destroy();
    const s = await starttls("sales.test");
    expectCertificateOf(s, "sales.test");
    await saslAndDeliver(s, "sales.test", "starttls after reload");
    s.destroy();
  });
});
