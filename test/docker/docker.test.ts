/**
 * The container files, checked as files (no Docker engine runs in the test
 * environment): the build context leaves out state, keys and secrets; the
 * image runs the Node major the tests run on and ships no config or policies;
 * config, policies and certificates are mounted; readiness is /readyz; the
 * database password comes from a secret with no default.
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import { loadConfig, requireSettings } from "../../src/config/load.js";

const ROOT = process.cwd();
const read = (p: string) => readFileSync(join(ROOT, p), "utf8");

/** .dockerignore patterns as Docker reads them: one a line, comments and blanks ignored. */
function ignored(): string[] {
  return read(".dockerignore").split("\n").map((l) => l.trim()).filter((l) => l && !l.startsWith("#"));
}

interface Compose {
  services: Record<string, { environment?: Record<string, string>; secrets?: string[]; volumes?: string[]; healthcheck?: { test: string[] }; build?: { context: string } }>;
  secrets?: Record<string, { file?: string }>;
}

describe(".dockerignore", () => {
  it("keeps the archive, credentials, keys, secrets, .git and node_modules out of the build context", () => {
    const list = ignored();
    for (const entry of [".git", "node_modules", "data", "certs", "**/*.key", "**/*.pem", "**/*.db", "**/*.db-wal", "docker/secrets", ".env"]) {
      expect(list, entry).toContain(entry);
    }
    // The context is the repository root, where these folders are.
    const compose = parse(read("docker/compose.yaml")) as Compose;
    expect(compose.services.demarc!.build?.context).toBe("..");
  });
});

describe("docker/Dockerfile", () => {
  const dockerfile = read("docker/Dockerfile");
  const froms = [...dockerfile.matchAll(/^FROM\s+(\S+)/gm)].map((m) => m[1]!);

  it("builds and runs on the Node major the tests run on", () => {
    const major = process.versions.node.split(".")[0];
    expect(froms.length).toBeGreaterThan(0);
    for (const image of froms) expect(image, image).toMatch(new RegExp(`^node:${major}(-|$)`));
  });

  it("bakes in neither config nor the policy folder, and uses /readyz as its health check", () => {
    const copies = [...dockerfile.matchAll(/^COPY\s+(.+)$/gm)].map((m) => m[1]!);
    expect(copies.some((c) => /demarc\.yaml/.test(c))).toBe(false);
    expect(copies.some((c) => /^policies\s/.test(c) || /\spolicies\s*$/.test(c))).toBe(false);
    expect(copies.some((c) => /certs/.test(c))).toBe(false);
    expect(dockerfile).toMatch(/^HEALTHCHECK[\s\S]*\/readyz/m);
    expect(dockerfile).not.toMatch(/\/healthz/);
    expect(dockerfile).toMatch(/^USER node$/m);
  });
});

describe("docker/compose.yaml", () => {
  const compose = parse(read("docker/compose.yaml")) as Compose;
  const demarc = compose.services.demarc!;
  const postgres = compose.services.postgres!;

  it("mounts config, policies and certificates, and checks readiness on /readyz", () => {
    const targets = (demarc.volumes ?? []).map((v) => v.split(":")[1]);
    expect(targets).toEqual(expect.arrayContaining(["/var/lib/demarc", "/etc/demarc/demarc.yaml", "/etc/demarc/policies", "/etc/demarc/certs"]));
    expect(demarc.healthcheck?.test.join(" ")).toContain("/readyz");
  });

  it("takes the database password from a secret, with no default anywhere", () => {
    expect(compose.secrets?.db_password?.file).toBe("./secrets/db_password");
    expect(demarc.secrets).toContain("db_password");
    expect(postgres.secrets).toContain("db_password");
    expect(postgres.environment?.POSTGRES_PASSWORD_FILE).toBe("/run/secrets/db_password");
    expect(postgres.environment?.POSTGRES_PASSWORD).toBeUndefined();
    expect(demarc.environment?.DEMARC_DB_PASSWORD_FILE).toBe("/run/secrets/db_password");
    const text = read("docker/compose.yaml");
    expect(text).not.toMatch(/PASSWORD[^\n]*:-/);
    expect(text).not.toMatch(/DEMARC_ARCHIVE_URL/);
  });

  it("the mounted config loads with what compose provides: the secret file and the admin token", () => {
    const secret = join(mkdtempSync(join(tmpdir(), "demarc-secret-")), "db_password");
    writeFileSync(secret, "s3cr@t/pw\n");
    const path = join(ROOT, "docker", "demarc.yaml");
    const env = { DEMARC_ADMIN_TOKEN: "t0ken", DEMARC_DB_PASSWORD_FILE: secret };
    const cfg = loadConfig({ path, env });
    expect(cfg.archive.url).toBe("postgres://demarc:s3cr%40t%2Fpw@postgres:5432/demarc");
    expect(cfg.admin).toMatchObject({ host: "0.0.0.0", token: "t0ken" });
    expect(cfg.policy).toMatchObject({ dir: "/etc/demarc/policies", watch: true });
    expect(cfg.tls.dir).toBe("/etc/demarc/certs");
    expect(cfg.data_dir).toBe("/var/lib/demarc");
    for (const name of Object.keys(env)) expect(Object.keys(demarc.environment ?? {}), name).toContain(name);
    // Without the password there is no start: no default is filled in.
    expect(() => loadConfig({ path, env: { DEMARC_ADMIN_TOKEN: "t0ken" } })).toThrow("environment variable DEMARC_DB_PASSWORD is referenced but not set");
    expect(() => requireSettings(loadConfig({ path, env: { DEMARC_DB_PASSWORD_FILE: secret } }))).toThrow("DEMARC_ADMIN_TOKEN is referenced but not set (admin.token)");
  });
});
