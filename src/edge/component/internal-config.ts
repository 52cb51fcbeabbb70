/**
 * The component declarations an internal server needs so the edge can hold
 * one XEP-0114 stream per partner domain on it, in the server's own config
 * syntax. The secret is never printed: the declarations reference the
 * environment variable the edge's config names (secret: "${NAME}"), so the
 * value stays in the two services' environments and out of terminals, files
 * and tickets. Prosody 0.12 resolves ENV_<NAME> in its config; ejabberd 23.01
 * has no environment references, so its declaration uses a macro kept in a
 * separate file only ejabberd reads (written by --secret-file from the environment).
 */
import { ConfigError } from "../../errors.js";
import type { Config } from "../../config/schema.js";

export type InternalServerKind = "prosody" | "ejabberd";

const ENV_REF = /^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$/;

/** The environment variable each internal server's secret comes from, read from the config file as written. */
export function secretNames(rawInternal: unknown): string[] {
  const list = Array.isArray(rawInternal) ? rawInternal : [];
  return list.map((entry, i) => {
    const secret = (entry as { secret?: unknown } | null)?.secret;
    const m = typeof secret === "string" ? ENV_REF.exec(secret) : null;
    if (!m) throw new ConfigError(`edge.internal[${i}].secret must be written as "\${NAME}" so the secret comes from the environment variable NAME`);
    return m[1]!;
  });
}

const luaString = (s: string) => JSON.stringify(s);

function prosody(cfg: Config, i: number, env: string): string {
  const s = cfg.edge.internal[i]!;
  const lines = [
    `-- demarc edge (mode: edge), internal server ${i}: ${s.host}:${s.port}, hosting ${s.domains.join(", ")}`,
    `-- Global settings: put them above the first VirtualHost.`,
    `component_ports = { ${s.port} }`,
    `component_interface = ${luaString(s.host)}`,
    `-- One component per partner domain. The secret is read from the environment variable`,
    `-- ${env} when Prosody loads its config: set it in Prosody's service environment.`,
  ];
  if (s.tls) lines.push(`-- edge.internal[${i}].tls is on: Prosody's component port has no TLS of its own; put a TLS terminator in front of it.`);
  for (const p of cfg.partners) lines.push(`Component ${luaString(p.domain)}`, `    component_secret = ENV_${env}`);
  return `${lines.join("\n")}\n`;
}

function ejabberd(cfg: Config, i: number, env: string): string {
  const s = cfg.edge.internal[i]!;
  const lines = [
    `# demarc edge (mode: edge), internal server ${i}: ${s.host}:${s.port}, hosting ${s.domains.join(", ")}`,
    `# The secret is the macro ${env}: define it in a file only ejabberd can read`,
    `# (demarc edge internal-config --server ejabberd --secret-file FILE writes it from the environment)`,
    `# and include that file: include_config_file: FILE`,
    `# Add these entries under listen: in ejabberd.yml.`,
    `  -`,
    `    port: ${s.port}`,
    `    ip: ${JSON.stringify(s.host)}`,
    `    module: ejabberd_service`,
    `    tls: ${s.tls}`,
    `    hosts:`,
  ];
  for (const p of cfg.partners) lines.push(`      ${JSON.stringify(p.domain)}:`, `        password: ${env}`);
  return `${lines.join("\n")}\n`;
}

export function internalConfig(cfg: Config, kind: InternalServerKind, envNames: string[]): string {
  if (!cfg.edge.internal.length) throw new ConfigError("edge.internal lists no internal server");
  if (!cfg.partners.length) throw new ConfigError("partners lists no partner domain: there is no component to declare");
  const render = kind === "prosody" ? prosody : ejabberd;
  return cfg.edge.internal.map((_, i) => render(cfg, i, envNames[i]!)).join("\n");
}

/** The ejabberd macro file for --secret-file: the secrets' values, from the environment. */
export function ejabberdSecretFile(envNames: string[], env: NodeJS.ProcessEnv): string {
  const lines = ["define_macro:"];
  for (const name of new Set(envNames)) {
    const v = env[name];
    if (!v) throw new ConfigError(`environment variable ${name} is not set`);
    lines.push(`  ${name}: ${JSON.stringify(v)}`);
  }
  return `${lines.join("\n")}\n`;
}
