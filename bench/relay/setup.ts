/**
 * The relay benchmark's world on loopback: the test CA, the tests' DNS
 * server, Prosody (partner-a.test), ejabberd (ejab.test, where installed) and
 * demarc (corp.test) as its own process with the archive on SQLite and the
 * shipped policies minus the rate limits, so its CPU and memory can be read.
 */
import { spawn, execFileSync, type ChildProcess } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync, openSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { stringify } from "yaml";
import { createTestCa, type TestCa } from "../../test/helpers/ca.js";
import { startDnsServer, type DnsServerHandle } from "../../test/helpers/dns-server.js";
import { startProsody, type ProsodyHandle } from "../../test/helpers/prosody.js";
import { exitedWith } from "../../test/helpers/peer-process.js";
import { waitForPort } from "../../test/helpers/wait.js";
import { startEjabberd, type EjabberdHandle } from "../../test/helpers/ejabberd.js";

export const ADDR = { demarc: "127.0.61.1", prosody: "127.0.61.2", ejabberd: "127.0.61.3", dns: "127.0.61.4" };
export const PORT = { s2s: 15269, c2s: 15222, admin: 15280, ejabberdDist: 25961 };
const ROOT = resolve(import.meta.dirname, "../..");
export const PASSWORD = "bench-password-12";
/** demarc users the synthetic partners write to. */
export const RECEIVERS = ["r1", "r2", "r3", "r4", "r5"];

export interface World {
  dir: string;
  ca: TestCa;
  dns: DnsServerHandle;
  prosody: ProsodyHandle;
  ejabberd: EjabberdHandle | undefined;
  demarc: ChildProcess;
  password: string;
  close(): Promise<void>;
}

function installed(bin: string): boolean {
  try {
    execFileSync("sh", ["-c", `command -v ${bin}`], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/** The shipped policy folder without its rate limits (a benchmark at line rate would trip them). */
function policiesWithoutLimits(dir: string): string {
  const out = join(dir, "policies");
  cpSync(join(ROOT, "policies"), out, { recursive: true });
  rmSync(join(out, "50-limits.yaml"));
  return out;
}

export function demarcConfig(dir: string, ca: TestCa, dns: string, partners: string[]): string {
  const own = ca.issue({ name: "corp", domains: ["corp.test"], xmppAddrs: ["corp.test"] });
  const on = (port: number) => ({ host: ADDR.demarc, port });
  const config = {
    domains: ["corp.test"],
    data_dir: join(dir, "data"),
    log: { level: "info", format: "json" },
    admin: on(PORT.admin),
    tls: { dir: join(dir, "certs"), certificates: [{ cert: own.certPath, key: own.keyPath }], trust: { system: false, ca_files: [ca.certPath] } },
    dns: { servers: [dns], timeout_ms: 1000 },
    // Limits off: the partner rate is what is being measured.
    s2s: { starttls: on(PORT.s2s), direct_tls: { ...on(PORT.s2s + 1), enabled: false }, rate: 1_000_000, burst: 1_000_000, max_streams_per_ip: 1000 },
    // Every benchmark client connects from one loopback address.
    c2s: { starttls: on(PORT.c2s), direct_tls: { ...on(PORT.c2s + 1), enabled: false }, max_streams_per_ip: 10_000 },
    sip: { tls: { enabled: false }, tcp: { enabled: false }, udp: { enabled: false } },
    federation: { mode: "open" },
    partners: partners.map((domain) => ({ domain, auth: ["certificate"] })),
    archive: { url: "sqlite:archive.db" },
    policy: { dir: policiesWithoutLimits(dir), watch: false },
  };
  const path = join(dir, "demarc.yaml");
  writeFileSync(path, stringify(config));
  return path;
}

/** Node's flags for the gateway, as `npm start` and the container's entry point run it (see package.json). */
export const GATEWAY_NODE_FLAGS = ["--max-semi-space-size=64"];

export interface Profiling {
  /** CPU profile (node --cpu-prof) into this directory. */
  cpu?: string | undefined;
  /** Allocation profile, garbage included (alloc-sampler.mjs), into this directory. */
  alloc?: string | undefined;
}

export async function startDemarc(dir: string, configPath: string, users: string[], profile: Profiling = {}, usersCsv?: string): Promise<ChildProcess> {
  const bin = join(ROOT, "bin", "demarc.js");
  if (usersCsv) execFileSync(process.execPath, [bin, "users", "import", usersCsv, "-c", configPath], { stdio: ["ignore", "ignore", "pipe"] });
  for (const u of users) {
    execFileSync(process.execPath, [bin, "users", "add", u, "--password-stdin", "-c", configPath], { input: `${PASSWORD}\n`, stdio: ["pipe", "ignore", "pipe"] });
  }
  const flags = [...GATEWAY_NODE_FLAGS, ...(profile.cpu ? ["--cpu-prof", "--cpu-prof-dir", profile.cpu] : [])];
  if (profile.alloc) {
    mkdirSync(profile.alloc, { recursive: true });
    flags.push("--import", join(import.meta.dirname, "alloc-sampler.mjs"));
  }
  const out = openSync(join(dir, "demarc.log"), "a");
  const env = { ...process.env, DEMARC_CONFIG: "", DEMARC_ALLOC_PROFILE_DIR: profile.alloc ?? "" };
  const child = spawn(process.execPath, [...flags, bin, "start", "-c", configPath], { stdio: ["ignore", out, out], env });
  await waitForPort(ADDR.demarc, PORT.c2s, 30_000, () => exitedWith(child));
  await waitForPort(ADDR.demarc, PORT.s2s, 5_000, () => exitedWith(child));
  return child;
}

export async function stopByPid(child: ChildProcess, timeoutMs = 15_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once("exit", r));
  process.kill(child.pid!, "SIGTERM");
  const t = setTimeout(() => child.exitCode === null && process.kill(child.pid!, "SIGKILL"), timeoutMs);
  await exited;
  clearTimeout(t);
}

export async function startWorld(opts: { synthetic: string[]; profile?: Profiling | undefined }): Promise<World> {
  const dir = mkdtempSync(join(tmpdir(), "bench-relay-"));
  const ca = createTestCa(join(dir, "ca"));
  const srv = (target: string) => [{ priority: 10, weight: 1, port: PORT.s2s, target }];
  const dns = await startDnsServer(ADDR.dns, {
    a: { "corp.test": [ADDR.demarc], "partner-a.test": [ADDR.prosody], "ejab.test": [ADDR.ejabberd] },
    srv: {
      "_xmpp-server._tcp.corp.test": srv("corp.test"),
      "_xmpp-server._tcp.partner-a.test": srv("partner-a.test"),
      "_xmpp-server._tcp.ejab.test": srv("ejab.test"),
    },
  });
  const cleanup: Array<() => Promise<unknown>> = [() => dns.close()];
  const close = async () => {
    for (const c of cleanup.reverse()) await c().catch(() => undefined);
  };
  try {
    const prosody = await startProsody({ domain: "partner-a.test", address: ADDR.prosody, ca, dnsServer: dns.server, secureAuth: true, users: { alice: PASSWORD }, s2sPort: PORT.s2s, c2sPort: PORT.c2s });
    cleanup.push(() => prosody.stop());
    let ejabberd: EjabberdHandle | undefined;
    if (installed("ejabberdctl")) {
      ejabberd = await startEjabberd({
        domain: "ejab.test",
        address: ADDR.ejabberd,
        ca,
        dnsServer: dns.server,
        users: { carol: PASSWORD },
        s2sPort: PORT.s2s,
        c2sPort: PORT.c2s,
        distPort: PORT.ejabberdDist,
        hosts: { "corp.test": ADDR.demarc, "partner-a.test": ADDR.prosody, "ejab.test": ADDR.ejabberd },
      });
      const e = ejabberd;
      cleanup.push(() => e.stop());
    }
    const configPath = demarcConfig(dir, ca, dns.server, ["partner-a.test", "ejab.test", ...opts.synthetic]);
    const demarc = await startDemarc(dir, configPath, ["bob@corp.test", ...RECEIVERS.map((r) => `${r}@corp.test`)], opts.profile);
    cleanup.push(() => stopByPid(demarc));
    return { dir, ca, dns, prosody, ejabberd, demarc, password: PASSWORD, close };
  } catch (err) {
    await close();
    throw err;
  }
}
