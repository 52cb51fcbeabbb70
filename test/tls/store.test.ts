import { describe, expect, it, beforeAll, afterAll } from "vitest";
import { mkdirSync, mkdtempSync, rmSync, copyFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { X509Certificate } from "node:crypto";
import { CertStore, dnsNames } from "../../src/tls/store.js";
import { peerNames } from "../../src/tls/peer.js";
import { buildCertificate, generateKey } from "../../src/tls/build.js";
import { createTestCa, type TestCa } from "../helpers/ca.js";

let dir: string;
let ca: TestCa;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "demarc-store-"));
  ca = createTestCa(join(dir, "ca"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("CertStore", () => {
  it("makes a self-signed certificate with XMPP names on first start, key 0600", () => {
    const certs = join(dir, "first");
    const store = CertStore.load({ dir: certs, certificates: [], domains: ["a.test", "b.test"], minVersion: "TLSv1.2" });
    expect(store.generated).toBe(join(certs, "selfsigned.crt"));
    expect(statSync(join(certs, "selfsigned.key")).mode & 0o777).toBe(0o600);
    const names = peerNames(store.certs[0]!.x509);
    expect(names.xmppAddr).toEqual(["a.test", "b.test"]);
    expect(names.srv).toContain("_xmpp-server.b.test");
    expect(store.uncovered()).toEqual([]);
    // Adding a domain regenerates it.
    const again = CertStore.load({ dir: certs, certificates: [], domains: ["a.test", "b.test", "c.test"], minVersion: "TLSv1.2" });
    expect(again.generated).toBe(join(certs, "selfsigned.crt"));
    expect(peerNames(again.certs[0]!.x509).xmppAddr).toEqual(["a.test", "b.test", "c.test"]);
    expect(again.uncovered()).toEqual([]);
  });

  it("loads installed certificates, picks by SNI with wildcards in the leftmost label only", () => {
    const certs = join(dir, "inst");
    mkdirSync(join(certs, "installed"), { recursive: true });
    const w = ca.issue({ name: "wild", domains: ["*.w.test"], xmppAddrs: ["w.test"] });
    copyFileSync(w.certPath, join(certs, "installed", "wild.crt"));
    copyFileSync(w.keyPath, join(certs, "installed", "wild.key"));
    const store = CertStore.load({ dir: certs, certificates: [], domains: ["chat.w.test", "w.test"], minVersion: "TLSv1.2" });
    expect(store.generated).toBeUndefined();
    expect(store.forDomain("chat.w.test")?.certPath).toBe(join(certs, "installed", "wild.crt"));
    expect(store.forDomain("a.b.w.test")).toBeUndefined();
    // XmppAddr is not a DNS-ID: the bare domain is not covered for TLS.
    expect(store.uncovered()).toEqual(["w.test"]);
  });

  it("remakes the self-signed certificate to cover hosted services, never an installed one", () => {
    const certs = join(dir, "svc");
    const store = CertStore.load({ dir: certs, certificates: [], domains: ["s.test"], minVersion: "TLSv1.2" });
    const hosted = [{ domain: "s.test", services: ["conference.s.test"], subdomains: ["upload.s.test"] }];
    expect(store.forDomain("conference.s.test")).toBeUndefined();
    expect(store.coverSelfSigned(hosted)).toBe(true);
    expect(store.forDomain("conference.s.test")?.certPath).toBe(join(certs, "selfsigned.crt"));
    expect(peerNames(store.certs[0]!.x509).xmppAddr).toEqual(["s.test", "conference.s.test"]);
    expect(store.coverSelfSigned(hosted)).toBe(false);
    const w = ca.issue({ name: "inst-only", domains: ["s.test"] });
    const installed = CertStore.load({ dir: join(dir, "svc2"), certificates: [{ cert: w.certPath, key: w.keyPath }], domains: ["s.test"], minVersion: "TLSv1.2" });
    expect(installed.coverSelfSigned(hosted)).toBe(false);
    expect(installed.certs[0]!.certPath).toBe(w.certPath);
  });

  it("uses the CN only when the certificate has no DNS-ID", () => {
    const k = generateKey(2048);
    const withSan = buildCertificate({ commonName: "cn.test", san: { dns: ["san.test"] }, publicKey: k.publicKey, signingKey: ca.keyPem, issuer: { cert: ca.certPem }, days: 1 });
    const cnOnly = buildCertificate({ commonName: "Cn.Test", publicKey: k.publicKey, signingKey: ca.keyPem, issuer: { cert: ca.certPem }, days: 1 });
    expect(dnsNames(new X509Certificate(withSan))).toEqual(["san.test"]);
    expect(dnsNames(new X509Certificate(cnOnly))).toEqual(["cn.test"]);
  });
});
