/**
 * Runs the real `demarc` binary as a child process, started and stopped by PID,
 * with its JSON log lines collected for assertions and failure reports.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { stringify } from "yaml";
import { Changes } from "./wait.js";

export const ROOT = resolve(import.meta.dirname, "../..");
export const BIN = join(ROOT, "bin", "demarc.js");

export interface LogLine {
  level: number;
  msg: string;
  [key: string]: unknown;
}

export class DemarcProcess {
  readonly logs: LogLine[] = [];
  stderr = "";
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly changes = new Changes();
  private outputClosed = false;

  constructor(readonly child: ChildProcess) {
    let buf = "";
    child.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
      buf += chunk;
      let nl: number;
      while ((nl = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        try {
          this.logs.push(JSON.parse(line) as LogLine);
        } catch {
          this.logs.push({ level: 0, msg: line });
        }
      }
      this.changes.notify();
    });
    child.stderr!.setEncoding("utf8").on("data", (c: string) => (this.stderr += c));
    this.exit = new Promise((res) => child.on("exit", (code, signal) => res({ code, signal })));
    // "close" comes after the last output: a line printed just before exiting is still seen.
    child.on("close", () => {
      this.outputClosed = true;
      this.changes.notify();
    });
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** Resolves with the first log line matching, or rejects after timeoutMs. */
  async waitForLog(match: (l: LogLine) => boolean, timeoutMs = 15_000): Promise<LogLine> {
    let seen = 0;
    const report = () => `log line not seen; stderr: ${this.stderr.trim()}; last logs: ${JSON.stringify(this.logs.slice(-5))}`;
    const found = await this.changes.until(
      () => {
        for (; seen < this.logs.length; seen++) if (match(this.logs[seen]!)) return { line: this.logs[seen]! };
        // Exited: no line will come.
        return this.outputClosed ? { line: undefined } : undefined;
      },
      timeoutMs,
      report,
    );
    if (!found.line) throw new Error(`demarc exited (${this.child.exitCode ?? this.child.signalCode}) before the line; ${report()}`);
    return found.line;
  }

  signal(sig: NodeJS.Signals): void {
    process.kill(this.pid, sig);
  }

  /** Stops by PID: SIGTERM, then SIGKILL if it has not exited within timeoutMs. */
  async stop(timeoutMs = 10_000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return this.exit;
    this.signal("SIGTERM");
    const timer = setTimeout(() => this.child.kill("SIGKILL"), timeoutMs);
    try {
      return await this.exit;
    } finally {
      clearTimeout(timer);
    }
  }
}

/** A fresh working folder with demarc.yaml written from the given settings. */
export function workdir(config?: Record<string, unknown>): { dir: string; configPath: string } {
  const dir = mkdtempSync(join(tmpdir(), "demarc-test-"));
  const configPath = join(dir, "demarc.yaml");
  if (config) writeFileSync(configPath, stringify(config));
  return { dir, configPath };
}

export function runDemarc(args: string[], opts: { cwd: string; env?: NodeJS.ProcessEnv }): DemarcProcess {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: opts.cwd,
    env: { ...process.env, DEMARC_CONFIG: "", ...opts.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  return new DemarcProcess(child);
}

/**
 * Runs demarc in a network namespace of its own with only a loopback
 * interface, for tests of the defaults (0.0.0.0 and the standard ports),
 * which would otherwise contend with parallel tests' listeners. unshare and
 * sh exec in turn, so the child's PID is demarc's and signals reach it.
 */
export function runDemarcIsolated(args: string[], opts: { cwd: string; env?: NodeJS.ProcessEnv }): DemarcProcess {
  const child = spawn("unshare", ["-n", "sh", "-c", 'ip link set lo up && exec "$0" "$@"', process.execPath, BIN, ...args], {
    cwd: opts.cwd,
    env: { ...process.env, DEMARC_CONFIG: "", ...opts.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  return new DemarcProcess(child);
}

/** Runs a short-lived demarc command to completion. */
export async function demarcCommand(
  args: string[],
  opts: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs?: number },
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const p = runDemarc(args, opts);
  let stdout = "";
  p.child.stdout!.on("data", (c: string) => (stdout += c));
  const timer = setTimeout(() => p.child.kill("SIGKILL"), opts.timeoutMs ?? 20_000);
  const { code } = await p.exit;
  clearTimeout(timer);
  return { code, stdout, stderr: p.stderr };
}

/**
 * A minimal config with every listener on one loopback address of the test's
 * own, so parallel test files never contend for a port.
 */
/**
 * Ports of baseConfig's listeners: off the standard ones, because a gateway
 * running on its defaults binds 0.0.0.0 there, and binding the same port on a
 * test's own loopback address would then fail.
 */
export const BASE_PORTS = { admin: 15380, s2s: 15369, s2sDirect: 15370, c2s: 15322, c2sDirect: 15323, sipTls: 15361, sip: 15360 } as const;

export function baseConfig(address: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const on = (port: number) => ({ host: address, port });
  const p = BASE_PORTS;
  return {
    domains: ["corp.test"],
    log: { level: "info", format: "json" },
    admin: { host: address, port: p.admin },
    s2s: { starttls: on(p.s2s), direct_tls: on(p.s2sDirect) },
    c2s: { starttls: on(p.c2s), direct_tls: on(p.c2sDirect) },
    sip: { tls: { ...on(p.sipTls), enabled: false }, tcp: { ...on(p.sip), enabled: false }, udp: { ...on(p.sip), enabled: false } },
    ...extra,
  };
}
