/**
 * A real ejabberd partner server on its own loopback address: generated
 * config, certificates from the test CA, SRV lookups through Erlang's own
 * resolver pointed at the tests' DNS server (inetrc: our nameserver with its
 * port, not the system's). The address of an SRV target is looked up through
 * libc, which ignores inetrc: ejabberd runs in a private mount namespace where
 * the test's hosts file and a resolv.conf naming only a loopback address are
 * bind-mounted over the real ones, so no query leaves the machine. Erlang
 * distribution on a fixed loopback port without epmd. Run as the ejabberd
 * user in a process group of its own, stopped by that group's id.
 */
import { spawn, execFileSync, type ChildProcess } from "node:child_process";
import { chownSync, mkdirSync, mkdtempSync, readdirSync, statSync, writeFileSync, copyFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestCa } from "./ca.js";
import { capturePeer, exitedWith } from "./peer-process.js";
import { waitForPort } from "./wait.js";

export interface EjabberdOptions {
  domain: string;
  /** More hosted domains (the certificate names them all). */
  extraDomains?: string[];
  address: string;
  ca: TestCa;
  dnsServer: string;
  /** "user" (on the first domain) or "user@domain" -> password. */
  users?: Record<string, string>;
  s2sPort?: number;
  c2sPort?: number;
  /** Erlang distribution port (ejabberdctl talks to the node through it). */
  distPort: number;
  /** More entries under listen: (YAML list items, indented by two spaces). */
  extraListen?: string;
  /** More top-level YAML, given the server's folder (files written there are readable by ejabberd). */
  extraConfig?: (dir: string) => string;
  /** Files to write into the server's folder before it starts, name -> content. */
  files?: Record<string, string>;
  /** Names libc resolves inside ejabberd's namespace (SRV targets), name -> address. */
  hosts: Record<string, string>;
}

export interface EjabberdHandle {
  dir: string;
  domain: string;
  address: string;
  c2sPort: number;
  log(): string;
  stop(): Promise<void>;
}

function chownTree(path: string, uid: number, gid: number): void {
  chownSync(path, uid, gid);
  if (statSync(path).isDirectory()) for (const f of readdirSync(path)) chownTree(join(path, f), uid, gid);
}

export async function startEjabberd(o: EjabberdOptions): Promise<EjabberdHandle> {
  const dir = mkdtempSync(join(tmpdir(), `ejabberd-${o.domain}-`));
  const s2sPort = o.s2sPort ?? 15269;
  const c2sPort = o.c2sPort ?? 15222;
  const spool = join(dir, "spool");
  mkdirSync(spool);
  const domains = [o.domain, ...(o.extraDomains ?? [])];
  const issued = o.ca.issue({ name: `ejabberd-${o.domain}`, domains });
  writeFileSync(join(dir, "server.pem"), issued.cert + issued.key, { mode: 0o600 });
  copyFileSync(o.ca.certPath, join(dir, "ca.crt"));
  const [dnsHost, dnsPort] = o.dnsServer.split(":");
  // libc's view inside the namespace: only these names, and a "DNS server" on loopback where nothing answers.
  writeFileSync(join(dir, "libc-resolv.conf"), `nameserver ${dnsHost}\noptions timeout:1 attempts:1\n`);
  writeFileSync(join(dir, "hosts"), ["127.0.0.1 localhost", ...Object.entries(o.hosts).map(([n, a]) => `${a} ${n}`), ""].join("\n"));
  writeFileSync(
    join(dir, "inetrc"),
    [
      // No resolv.conf to monitor: inet_db re-reads a monitored one every few seconds and its (empty)
      // nameserver list then replaces ours, so lookups a few seconds after start would find no server.
      `{resolv_conf, ""}.`,
      `{hosts_file, "${join(dir, "hosts")}"}.`,
      `{nameserver, {${dnsHost!.split(".").join(",")}}, ${dnsPort}}.`,
      `{lookup, [file, dns]}.`,
      "",
    ].join("\n"),
  );
  writeFileSync(join(dir, "ejabberdctl.cfg"), `ERL_DIST_PORT=${o.distPort}\nINET_DIST_INTERFACE=127.0.0.1\nERLANG_NODE=ejabberd${o.distPort}@localhost\n`);
  writeFileSync(
    join(dir, "ejabberd.yml"),
    `loglevel: ${process.env.DEMARC_TEST_PEER_LOG === "debug" ? "debug" : "info"}
log_rotate_count: 0
hosts:
${domains.map((d) => `  - "${d}"`).join("\n")}
certfiles:
  - "${join(dir, "server.pem")}"
ca_file: "${join(dir, "ca.crt")}"
s2s_use_starttls: required
s2s_dns_timeout: 2
s2s_dns_retries: 1
auth_method: internal
auth_password_format: plain
listen:
  -
    port: ${s2sPort}
    ip: "${o.address}"
    module: ejabberd_s2s_in
  -
    port: ${c2sPort}
    ip: "${o.address}"
    module: ejabberd_c2s
    starttls: true
${o.extraListen ?? ""}
${o.extraConfig?.(dir) ?? ""}
acl:
  local:
    user_regexp: ""
access_rules:
  local:
    allow: local
  c2s:
    allow: all
  s2s:
    allow: all
s2s_access: s2s
modules:
  mod_disco: {}
  mod_ping: {}
  mod_roster: {}
  mod_s2s_dialback: {}
`,
  );
  for (const [name, content] of Object.entries(o.files ?? {})) writeFileSync(join(dir, name), content, { mode: 0o600 });
  const uid = Number(execFileSync("id", ["-u", "ejabberd"]).toString().trim());
  const gid = Number(execFileSync("id", ["-g", "ejabberd"]).toString().trim());
  chownTree(dir, uid, gid);
  const args = ["--config-dir", dir, "--config", join(dir, "ejabberd.yml"), "--logs", dir, "--spool", spool];
  const env = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: dir };
  const script = 'mount -n --bind "$0" /etc/resolv.conf && mount -n --bind "$1" /etc/hosts && shift && exec setpriv --reuid=ejabberd --regid=ejabberd --init-groups "$@"';
  const child: ChildProcess = spawn(
    "unshare",
    ["-m", "--propagation", "private", "sh", "-c", script, join(dir, "libc-resolv.conf"), join(dir, "hosts"), "ejabberdctl", ...args, "foreground"],
    { cwd: dir, env, detached: true, stdio: ["ignore", "pipe", "pipe"] },
  );
  const { output, log, exited } = capturePeer(child, join(dir, "ejabberd.log"));
  const group = -child.pid!;
  const stop = async () => {
    try {
      process.kill(group, "SIGTERM");
    } catch {
      return;
    }
    const t = setTimeout(() => {
      try {
        process.kill(group, "SIGKILL");
      } catch {
        /* already gone */
      }
    }, 8_000);
    await exited;
    // The Erlang VM is a child of the ejabberdctl shell: wait until the group is gone.
    for (let i = 0; i < 100; i++) {
      try {
        process.kill(group, 0);
      } catch {
        break;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    clearTimeout(t);
  };
  try {
    await waitForPort(o.address, s2sPort, 30_000, () => exitedWith(child));
    await waitForPort(o.address, c2sPort, 5_000, () => exitedWith(child));
    for (const [jid, pw] of Object.entries(o.users ?? {})) {
      const [user, host] = jid.includes("@") ? jid.split("@") : [jid, o.domain];
      execFileSync("ejabberdctl", [...args, "register", user!, host!, pw], { uid, gid, cwd: dir, env, timeout: 20_000 });
    }
  } catch (err) {
    await stop();
    throw new Error(`ejabberd for ${o.domain} did not start: ${(err as Error).message}\n${output().slice(-2000)}\n${log().slice(-3000)}`);
  }
  return { dir, domain: o.domain, address: o.address, c2sPort, log, stop };
}
