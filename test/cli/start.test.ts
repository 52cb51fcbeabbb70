import { createServer } from "node:net";
import { chmodSync, mkdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { BASE_PORTS, baseConfig, demarcCommand, runDemarc, runDemarcIsolated, workdir, type DemarcProcess } from "../helpers/demarc.js";

// This file's loopback addresses: 127.0.2.1-127.0.2.9.
const running: DemarcProcess[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((p) => p.stop()));
});

function start(cwd: string, args: string[] = []): DemarcProcess {
  const p = runDemarc(["--config", join(cwd, "demarc.yaml"), "start", ...args], { cwd });
  running.push(p);
  return p;
}

describe("demarc start (single-box)", () => {
  it("warns at start about a data directory other local users can read, and narrows looser database files", async () => {
    const { dir } = workdir(baseConfig("127.0.2.6"));
    mkdirSync(join(dir, "data"), { mode: 0o755 });
    chmodSync(join(dir, "data"), 0o755);
    writeFileSync(join(dir, "data", "archive.db"), "");
    chmodSync(join(dir, "data", "archive.db"), 0o644);
    const p = start(dir);
    await p.waitForLog((l) => l.msg === "demarc started");
    expect(p.logs.some((l) => l.level === 40 && /data directory .* is 0755: other local users can reach the archive and credentials; chmod 700 it/.test(l.msg))).toBe(true);
    expect(p.logs.some((l) => l.level === 40 && /database file .*archive\.db was 0644: narrowed to 0600/.test(l.msg))).toBe(true);
    expect(statSync(join(dir, "data", "archive.db")).mode & 0o777).toBe(0o600);
  });

  it("serves health, readiness and metrics, reloads on SIGHUP and exits 0 on SIGTERM", async () => {
    const { dir } = workdir(baseConfig("127.0.2.1"));
    const p = start(dir);
    await p.waitForLog((l) => l.msg === "demarc started");

    const health = await fetch(`http://127.0.2.1:${BASE_PORTS.admin}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: "ok" });

    const ready = await fetch(`http://127.0.2.1:${BASE_PORTS.admin}/readyz`);
    expect(ready.status).toBe(200);
    expect(((await ready.json()) as { status: string }).status).toBe("ready");

    const metrics = await fetch(`http://127.0.2.1:${BASE_PORTS.admin}/metrics`);
    expect(metrics.headers.get("content-type")).toContain("text/plain");
    const text = await metrics.text();
    expect(text).toMatch(/^# TYPE demarc_process_cpu_user_seconds_total counter$/m);

    // First start made a self-signed certificate with a private key only we can read.
    expect(statSync(join(dir, "certs", "selfsigned.key")).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, "data", "archive.db")).isFile()).toBe(true);
    // The archive and its companions are the owner's alone, in an owner-only folder.
    expect(statSync(join(dir, "data")).mode & 0o777).toBe(0o700);
    for (const f of ["archive.db", "archive.db-wal", "archive.db-shm"]) expect(statSync(join(dir, "data", f)).mode & 0o777, f).toBe(0o600);

    p.signal("SIGHUP");
    await p.waitForLog((l) => l.msg === "configuration reloaded");
    expect((await fetch(`http://127.0.2.1:${BASE_PORTS.admin}/healthz`)).status).toBe(200);

    p.signal("SIGTERM");
    const exit = await p.exit;
    expect(exit.code).toBe(0);
    expect(p.logs.some((l) => l.msg === "stopped")).toBe(true);
  });

  it("keeps running on its previous config when a SIGHUP reload finds a bad file", async () => {
    const { dir, configPath } = workdir(baseConfig("127.0.2.2"));
    const p = start(dir);
    await p.waitForLog((l) => l.msg === "demarc started");
    const { writeFileSync } = await import("node:fs");
    writeFileSync(configPath, "admin:\n  port: [oops\n");
    p.signal("SIGHUP");
    const refused = await p.waitForLog((l) => l.msg.startsWith("config reload refused"));
    expect(String(refused.err)).toMatch(/demarc\.yaml:\d+: YAML syntax/);
    // Policy files are still re-read on the running config.
    await p.waitForLog((l) => l.msg === "modules reloaded on the previous configuration");
    expect(p.logs.some((l) => l.msg === "policy reloaded")).toBe(true);
    expect((await fetch(`http://127.0.2.2:${BASE_PORTS.admin}/healthz`)).status).toBe(200);
  });

  it("runs with no config file at all, for --domain, on the defaults, and exits 0 on SIGINT", async () => {
    const { dir } = workdir();
    // Its own network namespace: the defaults bind 0.0.0.0 and the standard ports.
    const p = runDemarcIsolated(["start", "--domain", "example.test"], { cwd: dir });
    running.push(p);
    const started = await p.waitForLog((l) => l.msg === "demarc started", 20_000);
    expect(started).toMatchObject({ domains: ["example.test"], mode: "single-box" });
    expect(p.logs.find((l) => l.msg === "s2s listening")).toMatchObject({ starttls: { address: "0.0.0.0", port: 5269 }, directTls: { address: "0.0.0.0", port: 5270 } });
    expect(p.logs.find((l) => l.msg === "c2s listening (STARTTLS)")).toMatchObject({ host: "0.0.0.0", port: 5222 });
    expect(p.logs.find((l) => l.msg === "admin HTTP listening")).toMatchObject({ host: "127.0.0.1", port: 5280 });
    // The defaults keep state beside where it was started.
    expect(statSync(join(dir, "data", "archive.db")).isFile()).toBe(true);
    expect(statSync(join(dir, "certs", "selfsigned.key")).mode & 0o777).toBe(0o600);
    p.signal("SIGINT");
    expect(await p.exit).toEqual({ code: 0, signal: null });
    expect(p.logs.find((l) => l.msg === "stopping: draining connections")).toMatchObject({ signal: "SIGINT" });
  });
});

describe("demarc start refuses bad input with one line and a non-zero exit", () => {
  it("names file, line and key path for an unknown key", async () => {
    const { dir } = workdir({ ...baseConfig("127.0.2.3"), s2s: { starttls: { port: 5269, colour: "blue" } } });
    const r = await demarcCommand(["--config", "demarc.yaml", "start"], { cwd: dir });
    expect(r.code).toBe(78);
    expect(r.stderr).toMatch(/^demarc: E_CONFIG_INVALID: demarc\.yaml:\d+: s2s\.starttls\.colour: unknown key "colour"\n$/);
  });

  it("names the key for a wrong type", async () => {
    const { dir } = workdir({ ...baseConfig("127.0.2.3"), admin: { host: "127.0.2.3", port: "eighty" } });
    const r = await demarcCommand(["--config", "demarc.yaml", "start"], { cwd: dir });
    expect(r.code).toBe(78);
    expect(r.stderr).toMatch(/^demarc: E_CONFIG_INVALID: demarc\.yaml:\d+: admin\.port: .*expected number.*\n$/);
  });

  it("reports an unreadable certificate file", async () => {
    const { dir } = workdir({ ...baseConfig("127.0.2.3"), tls: { certificates: [{ cert: "missing.crt", key: "missing.key" }] } });
    const r = await demarcCommand(["--config", "demarc.yaml", "start"], { cwd: dir });
    expect(r.code).toBe(78);
    expect(r.stderr).toMatch(/^demarc: E_CONFIG: .*missing\.crt: cannot read certificate \(ENOENT\)\n$/);
  });

  it("reports an unreachable PostgreSQL URL after retrying for connect_timeout_s, with the whole password masked", async () => {
    // A loopback port nothing listens on; the password holds '@', which once left "ss@" of it in the message.
    const { dir } = workdir({ ...baseConfig("127.0.2.3"), archive: { url: "postgres://u:sec@ret-p@ss@127.0.2.3:1/test", connect_timeout_s: 2 } });
    const began = Date.now();
    const r = await demarcCommand(["--config", "demarc.yaml", "start"], { cwd: dir });
    expect(r.code).toBe(69);
    expect(Date.now() - began).toBeGreaterThanOrEqual(2_000);
    expect(r.stderr).toMatch(/^demarc: E_DB_UNREACHABLE: archive database postgres:\/\/u:\*\*\*@127\.0\.2\.3:1\/test is unreachable after 2 s \(archive\.connect_timeout_s\): ECONNREFUSED\n$/);
    for (const piece of ["sec", "ret", "p@ss", "ss@"]) expect(r.stderr).not.toContain(piece);
  });

  it("reports a port already in use", async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(BASE_PORTS.admin, "127.0.2.4", r));
    try {
      const { dir } = workdir(baseConfig("127.0.2.4"));
      const r = await demarcCommand(["--config", "demarc.yaml", "start"], { cwd: dir });
      expect(r.code).toBe(69);
      expect(r.stderr).toBe(`demarc: E_LISTEN: admin HTTP: 127.0.2.4:${BASE_PORTS.admin} is already in use\n`);
    } finally {
      blocker.close();
    }
  });

  it("refuses mode edge without an internal server rather than running without an internal target", async () => {
    const { dir } = workdir({ ...baseConfig("127.0.2.5"), mode: "edge" });
    const r = await demarcCommand(["--config", "demarc.yaml", "start"], { cwd: dir });
    expect(r.code).toBe(78);
    expect(r.stderr).toBe("demarc: E_CONFIG: mode: edge needs at least one internal server (edge.internal)\n");
  });

  it("reports a config file that does not exist", async () => {
    const { dir } = workdir();
    const r = await demarcCommand(["--config", "nope.yaml", "start"], { cwd: dir });
    expect(r.code).toBe(78);
    expect(r.stderr).toBe("demarc: E_CONFIG_READ: nope.yaml: cannot read config file (ENOENT)\n");
  });
});

describe("demarc --help", () => {
  it("lists the subcommands and exits 0", async () => {
    const r = await demarcCommand(["--help"], { cwd: workdir().dir });
    expect(r.code).toBe(0);
    for (const cmd of ["start", "certs", "policy", "archive", "dns", "users"]) expect(r.stdout).toMatch(new RegExp(`^  ${cmd}\\b`, "m"));
  });
});
