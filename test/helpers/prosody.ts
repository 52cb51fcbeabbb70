/**
 * A real Prosody partner server on its own loopback address, for interop
 * tests: generated config and certificates in a temporary folder, run as the
 * prosody user (it refuses some things as root) without mod_posix, name
 * resolution through the tests' own DNS server, started and stopped by PID.
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { chownSync, mkdirSync, mkdtempSync, readdirSync, statSync, writeFileSync, copyFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestCa } from "./ca.js";
import { capturePeer, exitedWith } from "./peer-process.js";
import { waitForPort } from "./wait.js";

export interface ProsodyOptions {
  domain: string;
  address: string;
  ca: TestCa;
  /** "host:port" of the tests' DNS server. */
  dnsServer: string;
  /** true: certificates required (SASL EXTERNAL); false: dialback allowed. */
  secureAuth: boolean;
  users?: Record<string, string>;
  /** Names in the certificate; default [domain]. A wrong name makes a partner whose certificate does not match. */
  certDomains?: string[];
  /** Issue the certificate from this CA instead (an untrusted one). */
  certCa?: TestCa;
  /** Ports; not the standard ones, so a system Prosody bound to *:5269 does not collide. Peers find them by SRV. */
  s2sPort?: number;
  c2sPort?: number;
  /** XEP-0368 direct TLS port for s2s; none when unset. */
  s2sDirectTlsPort?: number;
  /** Extra Lua lines for the global section. */
  extra?: string;
  /** More environment variables for the Prosody process (its config can read ENV_<NAME>). */
  env?: Record<string, string>;
}

export interface ProsodyHandle {
  dir: string;
  domain: string;
  address: string;
  pid: number;
  s2sPort: number;
  c2sPort: number;
  log(): string;
  stop(): Promise<void>;
}

function ids(user: string): { uid: number; gid: number } {
  const uid = Number(execFileSync("id", ["-u", user]).toString().trim());
  const gid = Number(execFileSync("id", ["-g", user]).toString().trim());
  return { uid, gid };
}

function chownTree(path: string, uid: number, gid: number): void {
  chownSync(path, uid, gid);
  if (statSync(path).isDirectory()) for (const f of readdirSync(path)) chownTree(join(path, f), uid, gid);
}

/** Prosody's storage file name encoding (util.datamanager): every non-alphanumeric byte as %xx. */
function encode(s: string): string {
  return s.replace(/[^a-zA-Z0-9]/g, (c) => `%${c.charCodeAt(0).toString(16).padStart(2, "0")}`);
}

/**
 * Without lua-unbound Prosody falls back to its own resolver, which reads
 * /etc/resolv.conf and ignores the `unbound` settings below: its queries would
 * leave the machine and the tests' DNS server would never be asked.
 */
function requireUnbound(): void {
  try {
    execFileSync("lua5.4", ["-e", 'require "lunbound"'], { stdio: "ignore" });
  } catch {
    throw new Error("Prosody tests need lua-unbound (scripts/install-peers.sh installs it)");
  }
}

export async function startProsody(o: ProsodyOptions): Promise<ProsodyHandle> {
  requireUnbound();
  const dir = mkdtempSync(join(tmpdir(), `prosody-${o.domain}-`));
  const s2sPort = o.s2sPort ?? 15269;
  const c2sPort = o.c2sPort ?? 15222;
  const certs = join(dir, "certs");
  const data = join(dir, "data");
  mkdirSync(certs);
  mkdirSync(join(data, encode(o.domain), "accounts"), { recursive: true });
  const issued = (o.certCa ?? o.ca).issue({ name: `prosody-${o.domain}`, domains: o.certDomains ?? [o.domain] });
  writeFileSync(join(certs, `${o.domain}.crt`), issued.cert);
  writeFileSync(join(certs, `${o.domain}.key`), issued.key, { mode: 0o600 });
  copyFileSync(o.ca.certPath, join(certs, "ca.crt"));
  const [dnsHost, dnsPort] = o.dnsServer.split(":");
  for (const [user, pw] of Object.entries(o.users ?? {})) {
    writeFileSync(join(data, encode(o.domain), "accounts", `${encode(user)}.dat`), `return {\n\t["password"] = ${JSON.stringify(pw)};\n};\n`);
  }
  const config = `
data_path = "${data}"
log = { ${process.env.DEMARC_TEST_PEER_LOG ?? "info"} = "${dir}/prosody.log" }
interfaces = { "${o.address}" }
c2s_ports = { ${c2sPort} }
s2s_ports = { ${s2sPort} }
http_ports = {}; https_ports = {}
c2s_direct_tls_ports = {}; s2s_direct_tls_ports = { ${o.s2sDirectTlsPort ?? ""} }
admin_socket = "${dir}/admin.sock"
modules_enabled = { "roster", "saslauth", "tls", "dialback", "disco", "ping", "presence", "message" }
modules_disabled = { "s2s_bidi" }
authentication = "internal_plain"
c2s_require_encryption = false
allow_unencrypted_plain_auth = true
certificates = "${certs}"
ssl = { cafile = "${join(certs, "ca.crt")}" }
s2s_require_encryption = true
s2s_secure_auth = ${o.secureAuth}
s2s_timeout = 10
-- Every query goes to the tests' DNS server ("ip@port") and nowhere else (resolvconf = false: not the system resolver); without the local-zone line unbound answers NXDOMAIN for .test itself.
unbound = { resolvconf = false; forward = "${dnsHost}@${dnsPort ?? "53"}"; hoststxt = false; options = { ["local-zone:"] = "test. transparent", ["do-not-query-localhost:"] = "no", ["verbosity:"] = "2", ["logfile:"] = "${dir}/unbound.log", ["use-syslog:"] = "no" } }
${o.extra ?? ""}
VirtualHost "${o.domain}"
`;
  writeFileSync(join(dir, "prosody.cfg.lua"), config);
  const { uid, gid } = ids("prosody");
  chownTree(dir, uid, gid);
  const child: ChildProcess = spawn("prosody", ["-F", "--config", join(dir, "prosody.cfg.lua")], {
    uid,
    gid,
    cwd: dir,
    stdio: ["ignore", "pipe", "pipe"],
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: dir, ...o.env },
  });
  const { output, log, exited } = capturePeer(child, join(dir, "prosody.log"));
  try {
    await waitForPort(o.address, s2sPort, 15_000, () => exitedWith(child));
    await waitForPort(o.address, c2sPort, 5_000, () => exitedWith(child));
  } catch (err) {
    child.kill("SIGKILL");
    throw new Error(`prosody for ${o.domain} did not start: ${(err as Error).message}\n${output()}\n${log().slice(-3000)}`);
  }
  return {
    dir,
    domain: o.domain,
    address: o.address,
    pid: child.pid!,
    s2sPort,
    c2sPort,
    log,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      process.kill(child.pid!, "SIGTERM");
      const t = setTimeout(() => child.exitCode === null && process.kill(child.pid!, "SIGKILL"), 5_000);
      await exited;
      clearTimeout(t);
    },
  };
}
