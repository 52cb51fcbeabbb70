/**
 * Kamailio as a partner's SIMPLE presence server on loopback: a generated
 * config in a temporary folder (db_text presence tables copied beside it), its
 * own ctl socket and pid file, run in the foreground and stopped by PID. Its
 * log is kept for failure reports.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { arch, tmpdir } from "node:os";
import { join } from "node:path";
import { waitForPort } from "./wait.js";

/** Debian puts the modules under the multiarch folder. */
const MODULES =
  [`/usr/lib/${arch() === "arm64" ? "aarch64" : "x86_64"}-linux-gnu/kamailio/modules/`, "/usr/lib/kamailio/modules/", "/usr/local/lib64/kamailio/modules/"].find((d) =>
    existsSync(d),
  ) ?? "/usr/lib/kamailio/modules/";
const DBTEXT = "/usr/share/kamailio/dbtext/kamailio";

export interface KamailioOptions {
  address: string;
  port: number;
  domain: string;
  /** Where MESSAGEs for `relayDomain` are relayed (demarc's SIP TCP listener). */
  relay: { domain: string; host: string; port: number };
  /**
   * "serve": Kamailio is the presence server for its users' PUBLISH (the default).
   * "relay": it proxies them to demarc, as a partner's edge proxy federating presence would.
   */
  publish?: "serve" | "relay";
}

export class Kamailio {
  log = "";
  readonly exit: Promise<number | null>;
  constructor(readonly child: ChildProcess, readonly dir: string) {
    child.stdout!.setEncoding("utf8").on("data", (c: string) => (this.log += c));
    child.stderr!.setEncoding("utf8").on("data", (c: string) => (this.log += c));
    this.exit = new Promise((r) => child.on("exit", (code) => r(code)));
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    process.kill(this.child.pid!, "SIGTERM");
    const t = setTimeout(() => this.child.exitCode === null && process.kill(this.child.pid!, "SIGKILL"), 5_000);
    await this.exit;
    clearTimeout(t);
  }

  tail(n = 4000): string {
    return this.log.slice(-n);
  }
}

export function kamailioConfig(o: KamailioOptions, dir: string): string {
  return `#!KAMAILIO
debug=2
log_stderror=yes
fork=yes
children=2
tcp_children=2
listen=tcp:${o.address}:${o.port}
listen=udp:${o.address}:${o.port}
alias="${o.domain}"
mpath="${MODULES}"
dns=no
rev_dns=no
use_dns_cache=off
dns_try_ipv6=no
tcp_connection_lifetime=60

loadmodule "ctl.so"
loadmodule "tm.so"
loadmodule "sl.so"
loadmodule "rr.so"
loadmodule "pv.so"
loadmodule "maxfwd.so"
loadmodule "textops.so"
loadmodule "siputils.so"
loadmodule "xlog.so"
loadmodule "db_text.so"
loadmodule "presence.so"
loadmodule "presence_xml.so"

modparam("ctl", "binrpc", "unix:${join(dir, "kamailio_ctl")}")
modparam("presence", "db_url", "text://${join(dir, "db")}")
modparam("presence", "server_address", "sip:${o.address}:${o.port};transport=tcp")
modparam("presence", "subs_db_mode", 0)
modparam("presence", "publ_cache", 0)
modparam("presence_xml", "db_url", "text://${join(dir, "db")}")
modparam("presence_xml", "force_active", 1)
modparam("presence_xml", "integrated_xcap_server", 0)

request_route {
  if (!mf_process_maxfwd_header("10")) { sl_send_reply("483", "Too Many Hops"); exit; }
  xlog("L_INFO", "request $rm $ru from $fu\\n");
${
    o.publish === "relay"
      ? `  if (is_method("PUBLISH")) {
    $du = "sip:${o.relay.host}:${o.relay.port};transport=tcp";
    if (!t_relay()) { sl_reply_error(); }
    exit;
  }
`
      : ""
  }  if (is_method("PUBLISH|SUBSCRIBE")) {
    if (!t_newtran()) { sl_reply_error(); exit; }
    if (is_method("PUBLISH")) { handle_publish(); } else { handle_subscribe(); }
    exit;
  }
  if (is_method("MESSAGE") && $rd == "${o.relay.domain}") {
    $du = "sip:${o.relay.host}:${o.relay.port};transport=tcp";
    if (!t_relay()) { sl_reply_error(); }
    exit;
  }
  if (is_method("MESSAGE") && $rd == "${o.domain}") {
    xlog("L_INFO", "message for local user $rU: $rb\\n");
    sl_send_reply("200", "OK");
    exit;
  }
  sl_send_reply("404", "Not Here");
}
`;
}

export async function startKamailio(o: KamailioOptions): Promise<Kamailio> {
  const dir = mkdtempSync(join(tmpdir(), "demarc-kamailio-"));
  cpSync(DBTEXT, join(dir, "db"), { recursive: true });
  const cfg = join(dir, "kamailio.cfg");
  writeFileSync(cfg, kamailioConfig(o, dir));
  const child = spawn("kamailio", ["-f", cfg, "-DD", "-E", "-P", join(dir, "kamailio.pid"), "-Y", dir, "-m", "64", "-M", "8"], {
    cwd: dir,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const k = new Kamailio(child, dir);
  await waitForPort(o.address, o.port, 8_000, () => (child.exitCode !== null ? `kamailio exited (${child.exitCode}): ${k.tail()}` : undefined)).catch((err: Error) => {
    throw new Error(`kamailio did not listen: ${err.message}; ${k.tail()}`);
  });
  return k;
}
