import { describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { X509Certificate } from "node:crypto";
import forge from "node-forge";
import { readSan, sanAsn1 } from "../../src/tls/san.js";
import { buildCertificate, generateKey } from "../../src/tls/build.js";

const key = generateKey(2048);
const selfSigned = (san: Parameters<typeof sanAsn1>[0]) =>
  buildCertificate({ commonName: "san.test", san, publicKey: key.publicKey, signingKey: key.key, days: 1 });

describe("subjectAltName encoding", () => {
  it("tags otherName as [0] constructed (0xa0), unlike forge's own builder", () => {
    const der = forge.asn1.toDer(sanAsn1({ xmppAddr: ["x.test"] })).toHex();
    expect(der.slice(4, 6)).toBe("a0");
  });

  it("round-trips every name type through DER, UTF-8 XmppAddr included", () => {
    const names = { dns: ["a.test", "*.a.test"], xmppAddr: ["a.test", "bücher.test"], srv: ["_xmpp-server.a.test"], uri: ["sip:a.test"], ip: ["127.0.7.1", "2001:db8::1"] };
    const pem = selfSigned(names);
    expect(readSan(new X509Certificate(pem).raw)).toEqual({ ...names, ip: ["127.0.7.1", "2001:db8:0:0:0:0:0:1"] });
    expect(new X509Certificate(pem).subjectAltName).toContain("IP Address:2001:DB8:0:0:0:0:0:1");
  });

  it("is what openssl reads", () => {
    const dir = mkdtempSync(join(tmpdir(), "demarc-san-"));
    try {
      writeFileSync(join(dir, "c.pem"), selfSigned({ dns: ["o.test"], xmppAddr: ["o.test"], srv: ["_xmpp-client.o.test"] }));
      const text = execFileSync("openssl", ["x509", "-in", join(dir, "c.pem"), "-noout", "-ext", "subjectAltName"], { encoding: "utf8" });
      expect(text).toContain("DNS:o.test, othername: XmppAddr::o.test, othername: SRVName::_xmpp-client.o.test");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("refuses an empty name list and a bad IP", () => {
    expect(() => sanAsn1({})).toThrow(/at least one name/);
    expect(() => sanAsn1({ ip: ["999.1.1.1"] })).toThrow(/not an IP address/);
  });

  it("reads no SAN from a certificate without one", () => {
    const pem = buildCertificate({ commonName: "n.test", publicKey: key.publicKey, signingKey: key.key, days: 1 });
    expect(readSan(new X509Certificate(pem).raw)).toBeUndefined();
  });
});
