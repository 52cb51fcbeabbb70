/**
 * One error table: every code has its exit status and a line of
 * docs/errors.md, and the command prints `demarc: E_CODE: message` for its
 * own errors and for the command-line parser's alike.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, DemarcError, ERRORS, EXIT, UsageError, type ErrorCode } from "../../src/errors.js";
import { PolicyError } from "../../src/pipeline/policy/index.js";
import { errorLines } from "../../src/cli/run.js";
import { demarcCommand, ROOT, workdir } from "../helpers/demarc.js";

describe("the error table", () => {
  const doc = readFileSync(join(ROOT, "docs", "errors.md"), "utf8");

  it.each(Object.keys(ERRORS) as ErrorCode[])("%s has a line of docs/errors.md with its exit status", (code) => {
    const { doc: anchor, exit } = ERRORS[code];
    expect(anchor).toBe(`docs/errors.md#${code.toLowerCase()}`);
    const line = doc.split("\n").find((l) => l.includes(`<a id="${code.toLowerCase()}"></a>`));
    expect(line, `no line for ${code}`).toBeDefined();
    expect(line).toContain(`\`${code}\` (exit ${exit}): `);
  });

  it("documents no code the table lacks", () => {
    const documented = [...doc.matchAll(/<a id="(e_[a-z_]+)"><\/a>/g)].map((m) => m[1]!.toUpperCase()).sort();
    expect(documented).toEqual(Object.keys(ERRORS).sort());
  });

  it("fills a template from the throw site's parameters and takes the code's exit status", () => {
    const err = new DemarcError("E_DB_UNREACHABLE", { target: "postgres://db/x", seconds: 5, reason: "ECONNREFUSED" });
    expect(err.message).toBe("archive database postgres://db/x is unreachable after 5 s (archive.connect_timeout_s): ECONNREFUSED");
    expect(err.exitCode).toBe(EXIT.unavailable);
    expect(errorLines(err)).toEqual([`demarc: E_DB_UNREACHABLE: ${err.message}`]);
    expect(new DemarcError("E_SIP_CONNECT", { domain: "p.test", problems: ["a", "b"] }).message).toBe("no SIP route to p.test (a; b)");
    expect(new DemarcError("E_SIP_CONNECT", { domain: "p.test", problems: [] }).message).toBe("no SIP route to p.test");
  });

  it("knows a config or usage error by its exit status, whichever code it has", () => {
    const read = new DemarcError("E_CONFIG_READ", { file: "x.yaml", reason: "ENOENT" });
    expect(read).toBeInstanceOf(ConfigError);
    expect(read).not.toBeInstanceOf(UsageError);
    expect(new UsageError("no")).toBeInstanceOf(UsageError);
    expect(new DemarcError("E_LISTEN", { listener: "x", address: "y", problem: "z" })).not.toBeInstanceOf(ConfigError);
    // A subclass of a kind keeps its plain meaning: not every config error is a policy error.
    expect(read).not.toBeInstanceOf(PolicyError);
    expect(new PolicyError(["a", "b"])).toBeInstanceOf(ConfigError);
  });

  it("prints one line per problem, each with the code; the message counts the rest", () => {
    const err = new ConfigError(["f:1: a: bad", "f:4: b: worse", "f:9: c: worst"], "E_CONFIG_INVALID");
    expect(err.message).toBe("f:1: a: bad (and 2 more problems)");
    expect(errorLines(err)).toEqual(["demarc: E_CONFIG_INVALID: f:1: a: bad", "demarc: E_CONFIG_INVALID: f:4: b: worse", "demarc: E_CONFIG_INVALID: f:9: c: worst"]);
    expect(errorLines(new TypeError("x is undefined"))).toEqual(["demarc: E_INTERNAL: x is undefined"]);
  });
});

describe("demarc prints `demarc: E_CODE: message` and exits with the code's status", () => {
  it("a bad flag, a missing argument and an unknown command are E_USAGE, exit 64", async () => {
    const { dir } = workdir();
    const flag = await demarcCommand(["archive", "search", "--x"], { cwd: dir });
    expect([flag.code, flag.stderr.split("\n")[0]]).toEqual([64, "demarc: E_USAGE: unknown option '--x'"]);
    const arg = await demarcCommand(["users", "add"], { cwd: dir });
    expect([arg.code, arg.stderr.split("\n")[0]]).toEqual([64, "demarc: E_USAGE: missing required argument 'jid'"]);
    const value = await demarcCommand(["archive", "search", "--limit"], { cwd: dir });
    expect([value.code, value.stderr.split("\n")[0]]).toEqual([64, "demarc: E_USAGE: option '--limit <n>' argument missing"]);
    const cmd = await demarcCommand(["frobnicate"], { cwd: dir });
    expect([cmd.code, cmd.stderr]).toEqual([64, "demarc: E_USAGE: unknown command 'frobnicate'\n(run demarc --help for usage)\n"]);
  });

  it("a config file with problems in several sections lists each with its line, exit 78", async () => {
    const { dir } = workdir({ domains: ["corp.test"], admin: { port: "eighty" }, s2s: { starttls: { colour: "blue" } }, archive: { flavour: "strawberry" } });
    const r = await demarcCommand(["--config", "demarc.yaml", "archive", "search"], { cwd: dir });
    expect(r.code).toBe(78);
    const lines = r.stderr.trimEnd().split("\n");
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^demarc: E_CONFIG_INVALID: demarc\.yaml:\d+: admin\.port: .*expected number/);
    expect(lines[1]).toMatch(/^demarc: E_CONFIG_INVALID: demarc\.yaml:\d+: s2s\.starttls\.colour: unknown key "colour"$/);
    expect(lines[2]).toMatch(/^demarc: E_CONFIG_INVALID: demarc\.yaml:\d+: archive\.flavour: unknown key "flavour"$/);
    // In the file's order (admin, s2s, archive), not the schema's.
    const at = lines.map((l) => Number(/demarc\.yaml:(\d+):/.exec(l)![1]));
    expect([...at].sort((a, b) => a - b)).toEqual(at);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it("a missing file: the config file and a sample message, exit 78", async () => {
    const { dir } = workdir();
    const cfg = await demarcCommand(["--config", "missing.yaml", "archive", "search"], { cwd: dir });
    expect([cfg.code, cfg.stderr]).toEqual([78, "demarc: E_CONFIG_READ: missing.yaml: cannot read config file (ENOENT)\n"]);
    const sample = await demarcCommand(["policy", "test", join(ROOT, "policies"), "--message", "missing.yaml"], { cwd: dir });
    expect([sample.code, sample.stderr]).toEqual([78, "demarc: E_CONFIG: missing.yaml: cannot read sample message (ENOENT)\n"]);
  });

  it("a database that is unreachable or wrongly named, exit 69", async () => {
    // A loopback port nothing listens on.
    const { dir } = workdir({ archive: { url: "postgres://u:pw@127.0.2.9:1/test", connect_timeout_s: 1 } });
    const down = await demarcCommand(["--config", "demarc.yaml", "archive", "search"], { cwd: dir });
    expect([down.code, down.stderr]).toEqual([
      69,
      "demarc: E_DB_UNREACHABLE: archive database postgres://u:***@127.0.2.9:1/test is unreachable after 1 s (archive.connect_timeout_s): ECONNREFUSED\n",
    ]);
    const wrong = await demarcCommand(["--config", "demarc.yaml", "archive", "search"], { cwd: dir, env: { DEMARC_ARCHIVE_URL: "mysql://db/x" } });
    expect([wrong.code, wrong.stderr]).toEqual([69, 'demarc: E_DB_URL: archive.url "mysql://db/x" is neither sqlite:PATH nor postgres://...\n']);
  });
});
