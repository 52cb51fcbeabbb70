/**
 * The XMPP library's server side of TLS on real loopback sockets: STARTTLS on
 * a connected plain socket presents the certificate of the name asked for
 * (SNI), with and without client certificates, and a stalled handshake ends.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createServer, connect as netConnect, type Server, type Socket } from "node:net";
import { connect as tlsConnect, type TLSSocket } from "node:tls";
import { X509Certificate } from "node:crypto";
import { createTestCa, type TestCa } from "../helpers/ca.js";
import { CertStore } from "../../src/tls/store.js";
import { ServerTls } from "../../src/xmpp/tls.js";

const HOST = "127.0.21.1";
let ca: TestCa;
let certs: CertStore;
let client: { cert: string; key: string };

beforeAll(() => {
  const dir = mkdtempSync(join(tmpdir(), "demarc-xmpp-tls-"));
  ca = createTestCa(join(dir, "ca"));
  const a = ca.issue({ name: "a", domains: ["a.test"] });
  const b = ca.issue({ name: "b", domains: ["b.test"] });
  client = ca.issue({ name: "peer", domains: ["peer.test"] });
  certs = CertStore.load({ dir: join(dir, "certs"), certificates: [{ cert: a.certPath, key: a.keyPath }, { cert: b.certPath, key: b.keyPath }], domains: ["a.test", "b.test"], minVersion: "TLSv1.2" });
});

/** A plain listener that upgrades every connection at once; resolves with the server side's outcome. */
async function upgrading(tls: ServerTls, timeoutMs: number): Promise<{ server: Server; port: number; outcome: Promise<TLSSocket> }> {
  let settle!: (p: Promise<TLSSocket>) => void;
  const outcome = new Promise<Promise<TLSSocket>>((r) => (settle = r)).then((p) => p);
  const server = createServer((raw: Socket) => settle(tls.upgrade(raw, timeoutMs)));
  await new Promise<void>((r) => server.listen(0, HOST, r));
  return { server, port: (server.address() as { port: number }).port, outcome };
}

function handshake(port: number, servername: string, own?: { cert: string; key: string }): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const s = tlsConnect({ host: HOST, port, servername, ca: ca.certPem, ...(own ?? {}) }, () => resolve(s));
    s.once("error", reject);
  });
}

const subjectOf = (s: TLSSocket) => new X509Certificate(s.getPeerCertificate().raw).subjectAltName;

describe("server-side TLS of the XMPP library", () => {
  const open: { close(): void }[] = [];
  afterAll(() => open.forEach((o) => o.close()));

  it("upgrades without client certificates, with the certificate of the name asked for", async () => {
    const tls = new ServerTls({ certs, minVersion: "TLSv1.2" });
    for (const name of ["a.test", "b.test"]) {
      const { server, port, outcome } = await upgrading(tls, 5_000);
      open.push(server);
      const c = await handshake(port, name);
      const s = await outcome;
      expect(subjectOf(c)).toBe(`DNS:${name}`);
      expect(s.getPeerX509Certificate()).toBeUndefined();
      c.destroy();
      s.destroy();
    }
  });

  it("asks for a client certificate and says whether its chain verifies", async () => {
    const tls = new ServerTls({ certs, minVersion: "TLSv1.2", clientCerts: { ca: () => [ca.certPem] } });
    const withCert = await upgrading(tls, 5_000);
    open.push(withCert.server);
    const c1 = await handshake(withCert.port, "b.test", client);
    const s1 = await withCert.outcome;
    expect(subjectOf(c1)).toBe("DNS:b.test");
    expect(s1.authorized).toBe(true);
    expect(s1.getPeerX509Certificate()?.subjectAltName).toBe("DNS:peer.test");
    c1.destroy();
    s1.destroy();

    const without = await upgrading(tls, 5_000);
    open.push(without.server);
    const c2 = await handshake(without.port, "a.test");
    const s2 = await without.outcome;
    expect(s2.authorized).toBe(false);
    c2.destroy();
    s2.destroy();
  });

  it("gives up on a handshake that does not come", async () => {
    for (const tls of [new ServerTls({ certs, minVersion: "TLSv1.2" }), new ServerTls({ certs, minVersion: "TLSv1.2", clientCerts: { ca: () => [ca.certPem] } })]) {
      const { server, port, outcome } = await upgrading(tls, 200);
      open.push(server);
      const silent = netConnect(port, HOST);
      await expect(outcome).rejects.toThrow("TLS handshake timed out");
      silent.destroy();
    }
  });
});
