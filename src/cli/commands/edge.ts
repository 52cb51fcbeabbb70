import { chmodSync, readFileSync, writeFileSync } from "node:fs";
import type { Command } from "commander";
import { parse } from "yaml";
import { loadConfig, configPath } from "../../config/load.js";
import { ConfigError, UsageError } from "../../errors.js";
import { ejabberdSecretFile, internalConfig, secretNames, type InternalServerKind } from "../../edge/component/internal-config.js";
import { action } from "../run.js";

/** The names the secrets come from, read from the file before ${...} is replaced. */
function rawSecretNames(path: string | undefined): string[] {
  if (!path) throw new ConfigError("no config file: give --config or DEMARC_CONFIG (edge.internal must be set)");
  let raw: { edge?: { internal?: unknown } } | null;
  try {
    raw = parse(readFileSync(path, "utf8")) as typeof raw;
  } catch (err) {
    throw new ConfigError(`${path}: ${(err as Error).message.split("\n")[0]}`);
  }
  return secretNames(raw?.edge?.internal);
}

export function registerEdge(program: Command): void {
  const edge = program.command("edge").description("split mode (mode: edge): what the internal servers need");
  edge
    .command("internal-config")
    .description("print the component declarations for the internal server's config, one per partner domain (the secret is referenced, never printed)")
    .requiredOption("--server <kind>", "prosody or ejabberd")
    .option("--secret-file <file>", "ejabberd: also write the secret macro file (mode 0600) from the environment")
    .action(
      action(async (opts: { server: string; secretFile?: string }) => {
        if (opts.server !== "prosody" && opts.server !== "ejabberd") throw new UsageError(`--server must be prosody or ejabberd, not "${opts.server}"`);
        if (opts.secretFile && opts.server !== "ejabberd") throw new UsageError("--secret-file is for --server ejabberd (Prosody reads the environment itself)");
        const path = configPath(program.opts<{ config?: string }>().config, process.env);
        const names = rawSecretNames(path);
        // The secrets need not be set where this runs: only their names are printed.
        const env = { ...process.env };
        for (const n of names) env[n] ??= "unset";
        const cfg = loadConfig({ path, env });
        process.stdout.write(internalConfig(cfg, opts.server as InternalServerKind, names));
        if (opts.secretFile) {
          writeFileSync(opts.secretFile, ejabberdSecretFile(names, process.env), { mode: 0o600 });
          chmodSync(opts.secretFile, 0o600);
        }
      }),
    );
}
