import { describe, expect, it, beforeAll, afterAll } from "vitest";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { rootCertificates } from "node:tls";
import { X509Certificate } from "node:crypto";
import { TrustStore, chainsTo, normalizeFingerprint } from "../../src/tls/trust.js";
import { ConfigError } from "../../src/errors.js";
import { createTestCa, type TestCa } from "../helpers/ca.js";

let dir: string;
let ca: TestCa;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "demarc-trust-"));
  ca = createTestCa(dir);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("TrustStore", () => {
  it("combines system roots and CA files", () => {
    const t = TrustStore.load({ system: true, caFiles: [ca.certPath] });
    expect(t.ca.length).toBe(rootCertificates.length + 1);
    expect(t.ca).toContain(ca.certPem.trim());
    expect(TrustStore.load({ system: false, caFiles: [ca.certPath] }).ca).toHaveLength(1);
  });
  it("refuses an unreadable or empty CA file with one clear error", () => {
    expect(() => TrustStore.load({ system: false, caFiles: [join(dir, "nope.pem")] })).toThrow(/cannot read CA file \(ENOENT\)/);
    writeFileSync(join(dir, "empty.pem"), "nothing here");
    expect(() => TrustStore.load({ system: false, caFiles: [join(dir, "empty.pem")] })).toThrow(ConfigError);
  });
  it("matches pinned fingerprints per partner, in any notation", () => {
    const c = new X509Certificate(ca.issue({ name: "pinned", domains: ["p.test"] }).cert);
    const t = TrustStore.load({ system: false, caFiles: [], pinned: { "P.test": [c.fingerprint256.replace(/:/g, "").toLowerCase()] } });
    expect(t.isPinned("p.test", c.fingerprint256)).toBe(true);
    expect(t.isPinned("q.test", c.fingerprint256)).toBe(false);
    expect(normalizeFingerprint("ab:cd")).toBe("ABCD");
  });
  it("refuses a pin that is not a SHA-256 fingerprint", () => {
    expect(() => TrustStore.load({ system: false, caFiles: [], pinned: { "p.test": ["abcd"] } })).toThrow(/not a SHA-256 fingerprint/);
  });
  it("assesses a peer: pinned, CA plus identity, or a reason", () => {
    const good = new X509Certificate(ca.issue({ name: "good", domains: ["r.test"] }).cert);
    const t = TrustStore.load({ system: false, caFiles: [ca.certPath], pinned: { "s.test": [good.fingerprint256] } });
    expect(t.assess({ domain: "r.test", service: "xmpp-server", cert: good, chainAuthorized: true })).toMatchObject({ ok: true, via: "ca" });
    expect(t.assess({ domain: "x.test", service: "xmpp-server", cert: good, chainAuthorized: true })).toMatchObject({ ok: false });
    expect(t.assess({ domain: "r.test", service: "xmpp-server", cert: good, chainAuthorized: false, chainError: "SELF_SIGNED" }).reason).toContain("SELF_SIGNED");
    expect(t.assess({ domain: "s.test", service: "xmpp-server", cert: good, chainAuthorized: false })).toMatchObject({ ok: true, via: "pinned" });
    const other = new X509Certificate(ca.issue({ name: "other", domains: ["s.test"] }).cert);
    expect(t.assess({ domain: "s.test", service: "xmpp-server", cert: other, chainAuthorized: true }).ok).toBe(false);
    expect(t.assess({ domain: "r.test", service: "xmpp-server", cert: undefined, chainAuthorized: false }).reason).toMatch(/no certificate/);
  });
});

describe("chainsTo", () => {
  it("follows the signature to an anchor, and fails without it", () => {
    const leaf = ca.issue({ name: "chain", domains: ["c.test"] }).cert;
    expect(chainsTo([leaf], [ca.certPem])).toBe(true);
    expect(chainsTo([leaf], [...rootCertificates])).toBe(false);
    const otherCa = createTestCa(join(dir, "other-ca"));
    expect(chainsTo([leaf], [otherCa.certPem])).toBe(false);
  });
});
