/**
 * With admin.token: "${DEMARC_ADMIN_TOKEN}" in the config and the variable
 * unset, commands that never call the admin API still run; the ones that do,
 * and the gateway itself, stop with the config error (exit 78).
 */
import { describe, expect, it } from "vitest";
import { loadConfig, requireSettings } from "../../src/config/load.js";
import { ConfigError } from "../../src/errors.js";
import { demarcCommand, workdir } from "../helpers/demarc.js";

const config = {
  domains: ["corp.test"],
  log: { level: "silent", format: "json" },
  data_dir: "data",
  admin: { host: "127.0.0.1", port: 0, token: "${DEMARC_ADMIN_TOKEN}" },
};

describe("the admin token's variable is needed only where it is used", () => {
  it("loads the config with the token unresolved; requireSettings raises the usual error", () => {
    const { configPath } = workdir(config);
    const cfg = loadConfig({ path: configPath, env: {} });
    expect(cfg.admin.token).toBe("");
    expect(cfg.unresolved).toEqual({ "admin.token": "DEMARC_ADMIN_TOKEN" });
    expect(() => requireSettings(cfg, "admin.token")).toThrow(ConfigError);
    expect(() => requireSettings(cfg, "admin.token")).toThrow(`${configPath}: environment variable DEMARC_ADMIN_TOKEN is referenced but not set (admin.token)`);
    expect(loadConfig({ path: configPath, env: { DEMARC_ADMIN_TOKEN: "t0ken" } }).admin.token).toBe("t0ken");
  });

  it("any other unset variable still fails at load", () => {
    const { configPath } = workdir({ ...config, archive: { url: "postgres://demarc:${DB_PASSWORD}@db/archive" } });
    expect(() => loadConfig({ path: configPath, env: {} })).toThrow("environment variable DB_PASSWORD is referenced but not set");
  });

  it("users list runs without it; a quarantine release and start stop with exit 78", async () => {
    const { dir, configPath } = workdir(config);
    const env = { DEMARC_ADMIN_TOKEN: undefined } as unknown as NodeJS.ProcessEnv;
    const list = await demarcCommand(["--config", configPath, "users", "list"], { cwd: dir, env });
    expect(list.code, list.stderr).toBe(0);
    const release = await demarcCommand(["--config", configPath, "archive", "quarantine", "release", "1"], { cwd: dir, env });
    expect(release.code).toBe(78);
    expect(release.stderr).toBe(`demarc: E_CONFIG_ENV: ${configPath}: environment variable DEMARC_ADMIN_TOKEN is referenced but not set (admin.token)\n`);
    const start = await demarcCommand(["--config", configPath, "start"], { cwd: dir, env });
    expect(start.code).toBe(78);
    expect(start.stderr).toContain("DEMARC_ADMIN_TOKEN is referenced but not set");
  });
});
