import { describe, expect, it, beforeAll, afterAll } from "vitest";
import { execFileSync } from "node:child_process";
import { readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { stringify } from "yaml";
import { demarcCommand, workdir } from "../helpers/demarc.js";
import { createTestCa } from "../helpers/ca.js";

const openssl = (args: string[]) => execFileSync("openssl", args, { encoding: "utf8" });

let dir: string;
const config = {
  domains: ["corp.test", "other.test"],
  tls: { services: ["conference"], per_domain: { "other.test": { services: [], subdomains: ["upload"] } } },
};
const run = (...args: string[]) => demarcCommand(["--config", join(dir, "demarc.yaml"), "certs", ...args], { cwd: dir });
const setConfig = (c: Record<string, unknown>) => writeFileSync(join(dir, "demarc.yaml"), stringify(c));

beforeAll(() => {
  dir = workdir(config).dir;
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const ALL_NAMES = [
  "DNS:corp.test", "DNS:conference.corp.test", "DNS:other.test", "DNS:upload.other.test",
  "othername: XmppAddr::corp.test", "othername: XmppAddr::conference.corp.test", "othername: XmppAddr::other.test",
  "othername: SRVName::_xmpp-server.corp.test", "othername: SRVName::_xmpp-client.corp.test",
  "othername: SRVName::_xmpp-server.conference.corp.test", "othername: SRVName::_xmpp-server.other.test",
];

describe("demarc certs", () => {
  it("csr: a 0600 key and a request naming every hosted name and XMPP identity; the key is never printed", async () => {
    const r = await run("csr", "--bits", "2048");
    expect(r.code).toBe(0);
    const key = readFileSync(join(dir, "certs", "demarc.key"), "utf8");
    expect(statSync(join(dir, "certs", "demarc.key")).mode & 0o777).toBe(0o600);
    expect(r.stdout).not.toContain("PRIVATE KEY");
    expect(r.stdout).not.toContain(key.split("\n")[1]!);
    const text = openssl(["req", "-in", join(dir, "certs", "demarc.csr"), "-noout", "-text", "-verify"]);
    for (const n of ALL_NAMES) expect(text).toContain(n);
    // A second run does not clobber the key.
    const again = await run("csr");
    expect(again.code).toBe(64);
    expect(again.stderr).toMatch(/already exists \(use --force/);
  });

  it("ca init / issue: certificates pass openssl verify and show every SAN", async () => {
    expect((await run("ca", "init", "--dir", "ca")).code).toBe(0);
    expect(statSync(join(dir, "ca", "ca.key")).mode & 0o777).toBe(0o600);
    const viaCsr = await run("ca", "issue", "--dir", "ca", "--csr", join(dir, "certs", "demarc.csr"), "--out", "issued", "--name", "fromcsr");
    expect(viaCsr.code).toBe(0);
    const fresh = await run("ca", "issue", "--dir", "ca", "--out", "issued", "--name", "fresh");
    expect(fresh.code).toBe(0);
    for (const name of ["fromcsr", "fresh"]) {
      const crt = join(dir, "issued", `${name}.crt`);
      expect(openssl(["verify", "-CAfile", join(dir, "ca", "ca.crt"), crt]).trim()).toBe(`${crt}: OK`);
      const text = openssl(["x509", "-in", crt, "-noout", "-text"]);
      for (const n of ALL_NAMES) expect(text).toContain(n);
      expect(text).toContain("TLS Web Server Authentication, TLS Web Client Authentication");
    }
    expect(statSync(join(dir, "issued", "fresh.key")).mode & 0o777).toBe(0o600);
  });

  it("selfsign covers the hosted names", async () => {
    const r = await run("selfsign", "--out", "self", "--days", "30");
    expect(r.code).toBe(0);
    const text = openssl(["x509", "-in", join(dir, "self", "selfsigned.crt"), "-noout", "-text"]);
    for (const n of ALL_NAMES) expect(text).toContain(n);
  });

  it("install refuses a wrong key and a certificate that misses hosted names, naming them", async () => {
    const wrongKey = await run("install", join(dir, "issued", "fromcsr.crt"), join(dir, "issued", "fresh.key"));
    expect(wrongKey.code).toBe(64);
    expect(wrongKey.stderr).toMatch(/this key does not belong to the certificate/);
    const partial = await run("ca", "issue", "--dir", "ca", "--domain", "corp.test", "--out", "issued", "--name", "partial");
    expect(partial.code).toBe(0);
    const refused = await run("install", join(dir, "issued", "partial.crt"), join(dir, "issued", "partial.key"));
    expect(refused.code).toBe(64);
    expect(refused.stderr).toContain("does not cover other.test, upload.other.test");
    const ok = await run("install", join(dir, "issued", "fromcsr.crt"), join(dir, "certs", "demarc.key"));
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain("covering corp.test, conference.corp.test, other.test, upload.other.test");
    expect(ok.stdout).toContain('warning: issuer "demarc local CA" is not in the trust store');
    expect(statSync(join(dir, "certs", "installed", "fromcsr.key")).mode & 0o777).toBe(0o600);
  });

  it("status: ok when covered; non-zero naming a newly added domain; csr then includes it", async () => {
    const ok = await run("status");
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/fromcsr\.crt: ok/);
    expect(ok.stdout).toMatch(/issuer: {2}demarc local CA/);
    expect(ok.stdout).toMatch(/\(\d+ days left\)/);
    setConfig({ ...config, domains: [...config.domains, "new.test"] });
    try {
      const missing = await run("status");
      expect(missing.code).toBe(1);
      expect(missing.stdout).toContain("NOT COVERED: new.test, conference.new.test");
      const csr = await run("csr", "--bits", "2048", "--name", "next");
      expect(csr.code).toBe(0);
      const text = openssl(["req", "-in", join(dir, "certs", "next.csr"), "-noout", "-text"]);
      expect(text).toContain("DNS:new.test");
      expect(text).toContain("othername: XmppAddr::new.test");
    } finally {
      setConfig(config);
    }
  });

  it("status warns at 30 days and fails on an expired certificate", async () => {
    const ca = createTestCa(join(dir, "testca"));
    const names = ["corp.test", "conference.corp.test", "other.test", "upload.other.test"];
    const soon = ca.issue({ name: "soon", domains: names, days: 10 });
    const old = ca.issue({ name: "old", domains: names, days: 1, notBefore: new Date(Date.now() - 3 * 86_400_000) });
    setConfig({ ...config, tls: { ...config.tls, certificates: [{ cert: soon.certPath, key: soon.keyPath }] } });
    try {
      const warn = await run("status");
      expect(warn.stdout).toMatch(/soon\.crt: WARNING: expires in (9|10) days/);
      setConfig({ ...config, tls: { ...config.tls, certificates: [{ cert: old.certPath, key: old.keyPath }] } });
      const expired = await run("status");
      expect(expired.stdout).toMatch(/old\.crt: EXPIRED/);
      // The installed certificate still covers everything: the exit is non-zero for the expired one alone.
      expect(expired.stdout).not.toContain("NOT COVERED");
      expect(expired.code).toBe(1);
    } finally {
      setConfig(config);
    }
  });
});
