import { describe, expect, it, beforeAll, afterAll } from "vitest";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { X509Certificate } from "node:crypto";
import { checkPeerIdentity, matchDnsId, peerNames } from "../../src/tls/peer.js";
import { createTestCa, type TestCa } from "../helpers/ca.js";
import { buildCertificate, generateKey } from "../../src/tls/build.js";

let dir: string;
let ca: TestCa;
const x = (pem: string) => new X509Certificate(pem);

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "demarc-peer-"));
  ca = createTestCa(dir);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("matchDnsId (RFC 6125 6.4.3)", () => {
  it("matches exact names case-insensitively, ignoring a trailing dot", () => {
    expect(matchDnsId("Example.COM", "example.com.")).toBe(true);
  });
  it("lets a wildcard stand only for the whole leftmost label, one label deep", () => {
    expect(matchDnsId("*.example.com", "chat.example.com")).toBe(true);
    expect(matchDnsId("*.example.com", "example.com")).toBe(false);
    expect(matchDnsId("*.example.com", "a.b.example.com")).toBe(false);
    expect(matchDnsId("f*.example.com", "foo.example.com")).toBe(false);
    expect(matchDnsId("chat.*.com", "chat.example.com")).toBe(false);
    expect(matchDnsId("*.com", "example.com")).toBe(false);
  });
  it("refuses wildcards when the protocol forbids them", () => {
    expect(matchDnsId("*.example.com", "chat.example.com", false)).toBe(false);
  });
  it("compares internationalized names in A-label form", () => {
    expect(matchDnsId("xn--bcher-kva.example", "bücher.example")).toBe(true);
  });
});

describe("peerNames", () => {
  it("reads DNS-IDs, XmppAddr, SRVName and URIs from our own encoding", () => {
    const c = ca.issue({ name: "names", domains: ["a.test", "*.a.test"], xmppAddrs: ["a.test"], srvNames: ["_xmpp-server.a.test"], uris: ["sip:a.test"] });
    expect(peerNames(x(c.cert))).toEqual({ dns: ["a.test", "*.a.test"], xmppAddr: ["a.test"], srv: ["_xmpp-server.a.test"], uri: ["sip:a.test"], cn: "a.test" });
  });
});

describe("checkPeerIdentity for XMPP", () => {
  it("accepts by SRV-ID for the right service only", () => {
    const c = x(ca.issue({ name: "srv", domains: [], srvNames: ["_xmpp-server.b.test"] } as never).cert);
    expect(checkPeerIdentity(c, "b.test", "xmpp-server")).toEqual({ ok: true, via: "srv-id" });
    expect(checkPeerIdentity(c, "b.test", "xmpp-client").ok).toBe(false);
  });
  it("accepts by XmppAddr naming the bare domain", () => {
    const c = x(ca.issue({ name: "xa", domains: ["other.test"], xmppAddrs: ["c.test"] }).cert);
    expect(checkPeerIdentity(c, "c.test", "xmpp-server")).toEqual({ ok: true, via: "xmpp-addr" });
  });
  it("accepts by DNS-ID, including a leftmost wildcard", () => {
    const c = x(ca.issue({ name: "wild", domains: ["*.d.test"] }).cert);
    expect(checkPeerIdentity(c, "conference.d.test", "xmpp-server")).toEqual({ ok: true, via: "dns-id" });
    const r = checkPeerIdentity(c, "d.test", "xmpp-server");
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toContain("DNS:*.d.test");
  });
  it("uses the CN only when the certificate has no subjectAltName identifiers", () => {
    const k = generateKey();
    const noSan = x(buildCertificate({ commonName: "e.test", publicKey: k.publicKey, signingKey: ca.keyPem, issuer: { cert: ca.certPem }, days: 1 }));
    expect(checkPeerIdentity(noSan, "e.test", "xmpp-server")).toEqual({ ok: true, via: "cn-id" });
    const withSan = x(ca.issue({ name: "cnsan", domains: ["f.test"] }).cert);
    // CN is f.test too, but a SAN exists: the CN of a certificate naming other.test would not count.
    const k2 = generateKey();
    const cnOnlyOther = x(buildCertificate({ commonName: "g.test", san: { dns: ["h.test"] }, publicKey: k2.publicKey, signingKey: ca.keyPem, issuer: { cert: ca.certPem }, days: 1 }));
    expect(checkPeerIdentity(withSan, "f.test", "xmpp-server").ok).toBe(true);
    expect(checkPeerIdentity(cnOnlyOther, "g.test", "xmpp-server").ok).toBe(false);
  });
  it("refuses an invalid reference domain with a reason", () => {
    const c = x(ca.issue({ name: "inv", domains: ["i.test"] }).cert);
    expect(checkPeerIdentity(c, "bad..name", "xmpp-server")).toMatchObject({ ok: false });
  });
});

describe("checkPeerIdentity for SIP (RFC 5922)", () => {
  it("prefers sip: URIs and then ignores DNS-IDs", () => {
    const c = x(ca.issue({ name: "sipuri", domains: ["j.test"], uris: ["sip:k.test"] }).cert);
    expect(checkPeerIdentity(c, "k.test", "sip")).toEqual({ ok: true, via: "uri-id" });
    expect(checkPeerIdentity(c, "j.test", "sip").ok).toBe(false);
  });
  it("accepts DNS-IDs without wildcards when there are no SIP URIs", () => {
    const c = x(ca.issue({ name: "sipdns", domains: ["l.test", "*.m.test"] }).cert);
    expect(checkPeerIdentity(c, "l.test", "sip")).toEqual({ ok: true, via: "dns-id" });
    expect(checkPeerIdentity(c, "sip.m.test", "sip").ok).toBe(false);
  });
});
