/**
 * A real Prosody accepts certificates from the product's local CA: it
 * verifies our s2s client certificate and offers SASL EXTERNAL (XEP-0178)
 * only when chain and identity are both valid, and we verify its certificate
 * with the product's own RFC 6125 check.
 */
import { describe, expect, it, beforeAll, afterAll } from "vitest";
import { spawn, execFileSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TLSSocket } from "node:tls";
import { checkPeerIdentity } from "../../src/tls/peer.js";
import { createTestCa, type TestCa } from "../helpers/ca.js";
import { RawPeer, header } from "../helpers/xmpp-raw.js";
import { waitForPort } from "../helpers/wait.js";

// This file's loopback address: 127.0.7.40.
const HOST = "127.0.7.40";
// Off the standard ports: a gateway running on its defaults holds 0.0.0.0:5269, which would answer here instead.
const S2S_PORT = 15469;
const C2S_PORT = 15422;
const PARTNER = "partner7.test";
const OURS = "corp7.test";

let dir: string;
let ca: TestCa;
let prosody: ChildProcess | undefined;

/** STARTTLS as an initiating server presenting `cert`; returns the peer and the features after TLS. */
async function s2sWithCert(cert: { cert: string; key: string }, from: string): Promise<{ peer: RawPeer; tls: TLSSocket; features: string }> {
  const peer = await RawPeer.connect(HOST, S2S_PORT);
  await peer.write(header(from, PARTNER));
  await peer.expect(/<\/stream:features>/);
  await peer.starttls({ servername: PARTNER, ca: ca.certPem, cert: cert.cert, key: cert.key, alpn: [] });
  await peer.write(header(from, PARTNER));
  const features = await peer.expect(/<\/stream:features>|<\/stream:stream>/);
  return { peer, tls: peer.tls!, features };
}

// scripts/install-peers.sh installs Prosody; without it this fails rather than passing unseen.
describe("Prosody accepts certificates from the local CA", () => {
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "demarc-prosody-"));
    ca = createTestCa(join(dir, "certs"));
    ca.issue({ name: PARTNER, domains: [PARTNER], xmppAddrs: [PARTNER], srvNames: [`_xmpp-server.${PARTNER}`] });
    writeFileSync(join(dir, "hosts"), "");
    writeFileSync(
      join(dir, "prosody.cfg.lua"),
      `pidfile = "${dir}/prosody.pid"
data_path = "${dir}/data"
log = { info = "${dir}/prosody.log" }
interfaces = { "${HOST}" }
c2s_ports = { ${C2S_PORT} }
s2s_ports = { ${S2S_PORT} }
http_ports = {}; https_ports = {}
admin_socket = "${dir}/admin.sock"
modules_enabled = { "saslauth", "tls", "dialback", "disco" }
authentication = "internal_hashed"
certificates = "${dir}/certs"
ssl = { cafile = "${dir}/certs/ca.crt" }
s2s_secure_auth = true
unbound = { hoststxt = "${dir}/hosts" }
VirtualHost "${PARTNER}"
`,
    );
    execFileSync("mkdir", ["-p", join(dir, "data")]);
    execFileSync("chown", ["-R", "prosody:prosody", dir]);
    prosody = spawn("runuser", ["-u", "prosody", "--", "prosody", "-F", "--config", join(dir, "prosody.cfg.lua")], { stdio: "ignore" });
    await waitForPort(HOST, S2S_PORT, 10_000, () => (prosody && prosody.exitCode !== null ? `prosody exited (${prosody.exitCode})` : undefined));
  }, 30_000);

  afterAll(async () => {
    if (prosody?.pid && prosody.exitCode === null) {
      const exited = new Promise((r) => prosody!.once("exit", r));
      // runuser forwards SIGTERM to prosody.
      process.kill(prosody.pid, "SIGTERM");
      const timer = setTimeout(() => prosody?.pid && process.kill(prosody.pid, "SIGKILL"), 5000);
      await exited;
      clearTimeout(timer);
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("prosodyctl check certs finds the partner certificate valid", () => {
    let outText: string;
    try {
      outText = execFileSync("runuser", ["-u", "prosody", "--", "prosodyctl", "--config", join(dir, "prosody.cfg.lua"), "check", "certs"], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    } catch (err) {
      outText = `${(err as { stdout?: string }).stdout ?? ""}${(err as { stderr?: string }).stderr ?? ""}`;
    }
    expect(outText).toContain(PARTNER);
    expect(outText).toContain("All checks passed");
    expect(outText).not.toMatch(/not valid|expired|not trusted|not issued for/i);
  });

  it("verifies Prosody's certificate and is offered SASL EXTERNAL for our own certificate", async () => {
    const ours = ca.issue({ name: OURS, domains: [OURS], xmppAddrs: [OURS], srvNames: [`_xmpp-server.${OURS}`] });
    const { peer, tls, features } = await s2sWithCert(ours, OURS);
    try {
      expect(tls.authorized).toBe(true);
      expect(checkPeerIdentity(tls.getPeerX509Certificate()!, PARTNER, "xmpp-server")).toEqual({ ok: true, via: "srv-id" });
      expect(features).toContain("<mechanism>EXTERNAL</mechanism>");
      await peer.write(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='EXTERNAL'>${Buffer.from(OURS).toString("base64")}</auth>`);
      expect((await peer.waitFor((e) => e.name === "success" || e.name === "failure")).name).toBe("success");
    } finally {
      tls.destroy();
    }
  });

  it("refuses our stream when our certificate names another domain (s2s_secure_auth)", async () => {
    const wrong = ca.issue({ name: "wrong7", domains: ["wrong7.test"] });
    const { tls, features } = await s2sWithCert(wrong, OURS);
    try {
      expect(features).not.toContain("EXTERNAL");
      expect(features).toMatch(/<stream:error><not-authorized[^>]*\/>.*certificate is not valid for this name/);
    } finally {
      tls.destroy();
    }
  });
});
