/**
 * The config file as an operator writes it: found through --config or
 * DEMARC_CONFIG, secrets taken from the environment, and mistakes reported
 * with the file, the line and the key path.
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadConfig, requireSettings } from "../../src/config/load.js";
import { ConfigError } from "../../src/errors.js";
import { isDomainName } from "../../src/config/sections/domain.js";

function file(text: string): string {
  const p = join(mkdtempSync(join(tmpdir(), "demarc-config-")), "demarc.yaml");
  writeFileSync(p, text);
  return p;
}

function refused(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error("the config was accepted");
}

const refusal = (fn: () => unknown): string => refused(fn).message;

describe("loadConfig", () => {
  it("reads the file DEMARC_CONFIG names, and --config wins over it", () => {
    const a = file("domains: [a.test]\n");
    const b = file("domains: [b.test]\n");
    expect(loadConfig({ env: { DEMARC_CONFIG: a } }).domains).toEqual(["a.test"]);
    expect(loadConfig({ path: b, env: { DEMARC_CONFIG: a } }).domains).toEqual(["b.test"]);
    const none = loadConfig({ env: {} });
    expect(none.source).toBeUndefined();
    expect(none.domains).toEqual(["localhost"]);
  });

  it("takes ${NAME} from the environment and refuses a name that is not set", () => {
    const p = file("domains: [corp.test]\narchive:\n  url: postgres://demarc:${DB_PASSWORD}@127.0.0.1/archive\n");
    expect(loadConfig({ path: p, env: { DB_PASSWORD: "s3cret" } }).archive.url).toBe("postgres://demarc:s3cret@127.0.0.1/archive");
    expect(refusal(() => loadConfig({ path: p, env: {} }))).toBe(`${p}:3: archive.url: environment variable DB_PASSWORD is referenced but not set`);
    // NAME_FILE: the value from a secret file; inside a URL it is percent-encoded so '@' or '/' cannot end the userinfo.
    const secret = join(mkdtempSync(join(tmpdir(), "demarc-secret-")), "db_password");
    writeFileSync(secret, "p@ss/w:rd\n");
    expect(loadConfig({ path: p, env: { DB_PASSWORD_FILE: secret } }).archive.url).toBe("postgres://demarc:p%40ss%2Fw%3Ard@127.0.0.1/archive");
    expect(refusal(() => loadConfig({ path: p, env: { DB_PASSWORD_FILE: "/nonexistent/secret" } }))).toBe(`${p}:3: archive.url: DB_PASSWORD_FILE=/nonexistent/secret: cannot read (ENOENT)`);
    // Group members are addresses: a localpart no account can have (PRECIS) is refused with its line.
    const lig = file("core:\n  groups:\n    execs:\n      members: [\"ceo@corp.test\", \"\uFB00@corp.test\", \"*@corp.test\"]\n");
    expect(refusal(() => loadConfig({ path: lig, env: {} }))).toMatch(/:4: core\.groups\.execs\.members\.1: \uFB00@corp\.test: the localpart may not contain U\+FB00/);
    expect(loadConfig({ path: file("core:\n  groups:\n    g:\n      members: [\"Zo\u00EB@corp.test\"]\n"), env: {} }).core.groups.g!.members).toEqual(["Zo\u00EB@corp.test"]);
    const whole = file("archive:\n  url: ${DB_URL}\n");
    expect(loadConfig({ path: whole, env: { DB_URL: "postgres://u:p@db/x" } }).archive.url).toBe("postgres://u:p@db/x");
  });

  it("lets DEMARC_ARCHIVE_URL override archive.url, keeping the rest of the section", () => {
    const p = file("archive:\n  url: sqlite:archive.db\n  retention: { default_days: 30 }\n");
    const cfg = loadConfig({ path: p, env: { DEMARC_ARCHIVE_URL: "postgres://postgres@127.0.0.1:5432/test" } });
    expect(cfg.archive.url).toBe("postgres://postgres@127.0.0.1:5432/test");
    expect(cfg.archive.retention.default_days).toBe(30);
  });

  it("refuses a hosted domain that is not a domain name, naming its line", () => {
    const p = file("domains:\n  - corp.test\n  - \"corp.test:5269\"\n");
    expect(refusal(() => loadConfig({ path: p, env: {} }))).toMatch(new RegExp(`^${p.replace(/[.]/g, "\\.")}:3: domains\\.1: must be a domain name`));
  });

  it("refuses a partner or deny entry that is not a domain name", () => {
    const partner = file("partners:\n  - { domain: \"bad partner.example\" }\n");
    expect(refusal(() => loadConfig({ path: partner, env: {} }))).toMatch(/:2: partners\.0\.domain: must be a domain name/);
    const deny = file("federation:\n  deny: [\"*.rival.example\"]\n");
    expect(refusal(() => loadConfig({ path: deny, env: {} }))).toMatch(/:2: federation\.deny\.0: must be a domain name/);
  });

  it("lists every schema problem of the file, each as FILE:LINE: key.path: problem, in the file's order", () => {
    const p = file(
      [
        "domains: [corp.test]", // 1
        "admin:", // 2
        "  port: eighty", // 3
        "s2s:", // 4
        "  starttls:", // 5
        "    colour: blue", // 6
        "partners:", // 7
        '  - { domain: "bad partner.example" }', // 8
        "archive:", // 9
        "  connect_timeout_s: -1", // 10
        "  flavour: strawberry", // 11
      ].join("\n") + "\n",
    );
    const err = refused(() => loadConfig({ path: p, env: {} }));
    expect(err.code).toBe("E_CONFIG_INVALID");
    expect(err.exitCode).toBe(78);
    expect(err.problems.map((l) => l.replace(/:(\d+): [^:]+: .*/, ":$1"))).toEqual([`${p}:3`, `${p}:6`, `${p}:8`, `${p}:10`, `${p}:11`]);
    expect(err.problems[0]).toMatch(new RegExp(`^${p.replace(/[.]/g, "\\.")}:3: admin\\.port: .*expected number`));
    expect(err.problems[1]).toBe(`${p}:6: s2s.starttls.colour: unknown key "colour"`);
    expect(err.problems[2]).toMatch(/:8: partners\.0\.domain: must be a domain name/);
    expect(err.problems[3]).toMatch(/:10: archive\.connect_timeout_s: /);
    expect(err.problems[4]).toBe(`${p}:11: archive.flavour: unknown key "flavour"`);
    expect(err.message).toBe(`${err.problems[0]} (and 4 more problems)`);
  });

  it("lists every unset variable at once, with its line and key, before checking the settings", () => {
    const p = file("archive:\n  url: postgres://u:${DB_PASSWORD}@db/x\nadmin:\n  token: ${ADMIN_TOKEN}\nsip:\n  domain: ${SIP_DOMAIN}\n  colour: blue\n");
    const err = refused(() => loadConfig({ path: p, env: {} }));
    expect(err.code).toBe("E_CONFIG_ENV");
    // admin.token may stay unset until a command needs it; the other two may not.
    expect(err.problems).toEqual([
      `${p}:2: archive.url: environment variable DB_PASSWORD is referenced but not set`,
      `${p}:6: sip.domain: environment variable SIP_DOMAIN is referenced but not set`,
    ]);
  });

  it("lists every YAML syntax error with its line", () => {
    const p = file("domains: [corp.test]\nadmin:\n  port: 1\n  port: 2\nlog:\n  level: info\n  level: debug\n");
    const err = refused(() => loadConfig({ path: p, env: {} }));
    expect(err.code).toBe("E_CONFIG_SYNTAX");
    expect(err.problems.map((l) => l.slice(p.length).replace(/YAML syntax: .*/, "YAML syntax"))).toEqual([":4: YAML syntax", ":7: YAML syntax"]);
  });
});
