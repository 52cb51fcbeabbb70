/**
 * `demarc edge internal-config`: the component declarations for the internal
 * servers, one per partner domain, referencing the secret's environment
 * variable and never printing its value.
 */
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { demarcCommand, workdir } from "../helpers/demarc.js";

const config = (secret = "${EDGE_SECRET}") => ({
  domains: ["corp.test", "labs.test"],
  mode: "edge",
  partners: [{ domain: "partner-a.test" }, { domain: "sip-partner.test", protocol: "sip" }],
  edge: {
    internal: [
      { domains: ["corp.test"], host: "10.1.0.5", port: 5347, secret },
      { domains: ["labs.test"], host: "10.1.0.6", port: 5348, secret: "${LABS_SECRET}" },
    ],
  },
});
const env = { EDGE_SECRET: "s3cret-corp", LABS_SECRET: "s3cret-labs" };

describe("demarc edge internal-config", () => {
  it("prints one Prosody component per partner domain for each internal server, the secret as ENV_ reference", async () => {
    const { dir } = workdir(config());
    const r = await demarcCommand(["--config", "demarc.yaml", "edge", "internal-config", "--server", "prosody"], { cwd: dir, env });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).not.toMatch(/s3cret/);
    expect(r.stdout.match(/^Component "partner-a\.test"$/gm)).toHaveLength(2);
    expect(r.stdout.match(/^Component "sip-partner\.test"$/gm)).toHaveLength(2);
    expect(r.stdout).toContain('component_interface = "10.1.0.5"\n');
    expect(r.stdout).toContain("component_ports = { 5348 }\n");
    expect(r.stdout.match(/component_secret = ENV_EDGE_SECRET$/gm)).toHaveLength(2);
    expect(r.stdout.match(/component_secret = ENV_LABS_SECRET$/gm)).toHaveLength(2);
  });

  it("works where the secret is not set: only its name is printed", async () => {
    const { dir } = workdir(config());
    const r = await demarcCommand(["--config", "demarc.yaml", "edge", "internal-config", "--server", "prosody"], { cwd: dir, env: { EDGE_SECRET: undefined, LABS_SECRET: undefined } });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("ENV_EDGE_SECRET");
  });

  it("prints ejabberd_service listeners with the secret as a macro, and writes the macro file 0600 from the environment", async () => {
    const { dir } = workdir(config());
    const file = join(dir, "demarc-secret.yml");
    const r = await demarcCommand(["--config", "demarc.yaml", "edge", "internal-config", "--server", "ejabberd", "--secret-file", file], { cwd: dir, env });
    expect(r.code).toBe(0);
    expect(r.stdout).not.toMatch(/s3cret/);
    expect(r.stdout).toContain("# Add these entries under listen: in ejabberd.yml.\n  -\n    port: 5347\n");
    expect(r.stdout).toContain('    ip: "10.1.0.5"\n    module: ejabberd_service\n    tls: false\n    hosts:\n      "partner-a.test":\n        password: EDGE_SECRET\n');
    expect(readFileSync(file, "utf8")).toBe('define_macro:\n  EDGE_SECRET: "s3cret-corp"\n  LABS_SECRET: "s3cret-labs"\n');
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it("refuses a secret written into the config file, and an unknown server kind", async () => {
    const { dir } = workdir(config("literal-secret"));
    const r = await demarcCommand(["--config", "demarc.yaml", "edge", "internal-config", "--server", "prosody"], { cwd: dir, env });
    expect(r.code).toBe(78);
    expect(r.stderr).toBe('demarc: E_CONFIG: edge.internal[0].secret must be written as "${NAME}" so the secret comes from the environment variable NAME\n');
    expect(r.stdout).toBe("");
    const u = await demarcCommand(["--config", "demarc.yaml", "edge", "internal-config", "--server", "openfire"], { cwd: dir, env });
    expect(u.code).toBe(64);
    expect(u.stderr).toBe('demarc: E_USAGE: --server must be prosody or ejabberd, not "openfire"\n');
  });
});
