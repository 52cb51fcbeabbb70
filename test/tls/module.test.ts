import { describe, expect, it, beforeAll, afterAll, afterEach } from "vitest";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { X509Certificate } from "node:crypto";
import pino from "pino";
import { tlsModule } from "../../src/tls/module.js";
import { TrustStore } from "../../src/tls/trust.js";
import { loadConfig } from "../../src/config/load.js";
import { CertStore } from "../../src/tls/store.js";
import type { GatewayContext } from "../../src/module.js";
import { createTestCa, type TestCa } from "../helpers/ca.js";
import { BASE_PORTS, baseConfig, runDemarc, workdir, type DemarcProcess } from "../helpers/demarc.js";

// This file's loopback addresses: 127.0.7.20-29.
let dir: string;
let ca: TestCa;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "demarc-tlsmod-"));
  ca = createTestCa(join(dir, "ca"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function context(yaml: string): GatewayContext {
  const path = join(dir, "demarc.yaml");
  writeFileSync(path, yaml);
  const config = loadConfig({ path, env: {} });
  const certs = CertStore.load({ dir: join(dir, "certs"), certificates: [], domains: config.domains, minVersion: "TLSv1.2" });
  return { config, log: pino({ level: "silent" }), certs, readiness: new Map(), adminRoutes: [] } as unknown as GatewayContext;
}

describe("tls module", () => {
  it("holds trust (CA files, partner pins) and a resolver for the edges", async () => {
    const partner = new X509Certificate(ca.issue({ name: "partner", domains: ["partner.test"] }).cert);
    const ctx = context(`domains: [corp.test]
tls: { trust: { system: false, ca_files: [${ca.certPath}] } }
partners: [{ domain: partner.test, pinned: ["${partner.fingerprint256}"] }]
dns: { servers: ["127.0.7.21:53"] }
`);
    const mod = tlsModule();
    await mod.start(ctx);
    const trust = mod.trust();
    expect(trust).toBeInstanceOf(TrustStore);
    expect(trust.ca).toEqual([ca.certPem.trim()]);
    expect(trust.isPinned("partner.test", partner.fingerprint256)).toBe(true);
    expect(typeof mod.resolver().srv).toBe("function");
    // The self-signed first-start certificate covers the hosted domain: ready.
    expect(ctx.readiness.get("certificate-names")!()).toBeUndefined();
  });

  it("keeps the previous trust store when a reload names an unreadable CA file", async () => {
    const ctx = context("domains: [corp.test]\ntls: { trust: { system: false } }\n");
    const mod = tlsModule();
    await mod.start(ctx);
    const before = mod.trust();
    writeFileSync(join(dir, "demarc.yaml"), `domains: [corp.test]\ntls: { trust: { system: false, ca_files: [${join(dir, "missing.pem")}] } }\n`);
    ctx.config = loadConfig({ path: join(dir, "demarc.yaml"), env: {} });
    await expect(mod.reload!(ctx)).rejects.toThrow(/cannot read CA file/);
    expect(mod.trust()).toBe(before);
  });
});

describe("a hosted domain no certificate covers", () => {
  const running: DemarcProcess[] = [];
  afterEach(async () => {
    await Promise.all(running.splice(0).map((p) => p.stop()));
  });

  it("is reported at startup and by /readyz, service subdomains included", async () => {
    const issued = ca.issue({ name: "corp", domains: ["corp.test", "conference.corp.test"] });
    const listen = (port: number) => ({ host: "127.0.7.20", port });
    const { dir: wd } = workdir(
      baseConfig("127.0.7.20", {
        domains: ["corp.test", "new.test"],
        tls: { services: ["conference"], certificates: [{ cert: issued.certPath, key: issued.keyPath }] },
        s2s: { starttls: listen(BASE_PORTS.s2s), direct_tls: listen(BASE_PORTS.s2sDirect) },
        c2s: { starttls: listen(BASE_PORTS.c2s), direct_tls: listen(BASE_PORTS.c2sDirect) },
      }),
    );
    const p = runDemarc(["--config", join(wd, "demarc.yaml"), "start"], { cwd: wd });
    running.push(p);
    const warn = await p.waitForLog((l) => l.msg.startsWith("hosted names not covered"));
    expect(warn.names).toEqual(["new.test", "conference.new.test"]);
    await p.waitForLog((l) => l.msg === "demarc started");
    const res = await fetch(`http://127.0.7.20:${BASE_PORTS.admin}/readyz`);
    expect(res.status).toBe(503);
    const body = (await res.json()) as { problems: Record<string, string> };
    expect(body.problems["certificate-names"]).toBe("no valid certificate covers new.test, conference.new.test");
    rmSync(wd, { recursive: true, force: true });
  });
});
