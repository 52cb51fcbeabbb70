/**
 * SIPp (Debian sip-tester) as a scripted SIP peer, started and stopped by PID
 * in a folder of its own whose logs are kept for failure reports. Debian's
 * SIPp is built without TLS, so TLS legs run through tlsBridge(): a TCP <->
 * TLS relay holding the partner's certificate, the way a partner's edge proxy
 * would.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { createServer as createTcpServer, connect as tcpConnect, type Server, type Socket } from "node:net";
import { createServer as createTlsServer, connect as tlsConnect, type TLSSocket } from "node:tls";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

export const SCENARIOS = resolve(import.meta.dirname, "../edge/sip/scenarios");

export interface SippOptions {
  scenario: string;
  /** host:port to send to (UAC); omitted for a UAS. */
  remote?: string;
  transport: "t1" | "u1";
  localIp: string;
  localPort?: number;
  /** The user part of the request URI (-s). */
  service?: string;
  keys?: Record<string, string>;
  calls?: number;
  timeoutS?: number;
  extraArgs?: string[];
}

export class SippProcess {
  stdout = "";
  stderr = "";
  readonly exit: Promise<number | null>;
  constructor(readonly child: ChildProcess, readonly dir: string) {
    child.stdout!.setEncoding("utf8").on("data", (c: string) => (this.stdout += c));
    child.stderr!.setEncoding("utf8").on("data", (c: string) => (this.stderr += c));
    this.exit = new Promise((r) => child.on("exit", (code) => r(code)));
  }

  /** The error and message logs SIPp wrote, for a failure report. */
  logs(): string {
    if (!existsSync(this.dir)) return "";
    return readdirSync(this.dir)
      .filter((f) => f.endsWith(".log"))
      .map((f) => `--- ${f}\n${readFileSync(join(this.dir, f), "utf8").slice(-4000)}`)
      .join("\n");
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    process.kill(this.child.pid!, "SIGTERM");
    const t = setTimeout(() => this.child.exitCode === null && process.kill(this.child.pid!, "SIGKILL"), 3_000);
    await this.exit;
    clearTimeout(t);
  }
}

export function startSipp(o: SippOptions): SippProcess {
  const dir = mkdtempSync(join(tmpdir(), "demarc-sipp-"));
  const args = [
    ...(o.remote ? [o.remote] : []),
    "-sf", join(SCENARIOS, o.scenario),
    "-t", o.transport,
    "-i", o.localIp,
    "-p", String(o.localPort ?? 0),
    "-m", String(o.calls ?? 1),
    "-s", o.service ?? "bob",
    "-timeout", `${o.timeoutS ?? 10}s`,
    "-timeout_error",
    "-nostdin",
    "-trace_err",
    "-trace_msg",
    "-max_recv_loops", "1000",
    ...Object.entries(o.keys ?? {}).flatMap(([k, v]) => ["-key", k, v]),
    ...(o.extraArgs ?? []),
  ];
  const child = spawn("sipp", args, { cwd: dir, stdio: ["ignore", "pipe", "pipe"] });
  return new SippProcess(child, dir);
}

/** Runs a SIPp UAC to completion; resolves with its exit code (0 = every call passed). */
export async function runSipp(o: SippOptions): Promise<{ code: number | null; report: string }> {
  const p = startSipp(o);
  const code = await p.exit;
  return { code, report: `${p.stderr}\n${p.logs()}` };
}

export interface Bridge {
  port: number;
  close(): Promise<void>;
}

/**
 * Relays between a plain TCP side (SIPp) and a TLS side (demarc).
 * "to-tls": listens on TCP, dials TLS with the given client certificate.
 * "from-tls": listens on TLS with the given server certificate, dials TCP.
 */
export async function tlsBridge(o: {
  mode: "to-tls" | "from-tls";
  host: string;
  target: { host: string; port: number };
  cert: string;
  key: string;
  ca: string;
  servername?: string;
}): Promise<Bridge> {
  const sockets = new Set<Socket>();
  const pipe = (a: Socket, b: Socket) => {
    sockets.add(a).add(b);
    a.pipe(b).pipe(a);
    const end = () => {
      a.destroy();
      b.destroy();
    };
    a.on("error", end).on("close", end);
    b.on("error", end).on("close", end);
  };
  let server: Server;
  if (o.mode === "to-tls") {
    server = createTcpServer((down) => {
      // TLS over a socket bound to the bridge's own loopback address, which demarc sees as the peer.
      const tcp = tcpConnect({ host: o.target.host, port: o.target.port, localAddress: o.host });
      const up = tlsConnect({ socket: tcp, host: o.target.host, cert: o.cert, key: o.key, ca: o.ca, servername: o.servername });
      pipe(down, up);
    });
  } else {
    server = createTlsServer({ cert: o.cert, key: o.key, ca: o.ca, requestCert: true, rejectUnauthorized: true }, (down: TLSSocket) => {
      const up = tcpConnect({ host: o.target.host, port: o.target.port, localAddress: o.host });
      pipe(down, up);
    });
  }
  await new Promise<void>((r) => server.listen(0, o.host, () => r()));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}
