/**
 * What the `demarc certs` subcommands share: the config, the folders it
 * names, whole-number options and the refusal to overwrite files.
 */
import type { Command } from "commander";
import { existsSync } from "node:fs";
import { loadConfig, resolvePath, type LoadedConfig } from "../../config/load.js";
import { UsageError } from "../../errors.js";

export const out = (s: string) => process.stdout.write(`${s}\n`);

export function intOption(v: string | undefined, name: string, min: number, max: number): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`${name} must be a whole number from ${min} to ${max}`);
  return n;
}

export function refuseOverwrite(paths: string[], force: boolean | undefined): void {
  const existing = paths.filter((p) => existsSync(p));
  if (existing.length && !force) throw new UsageError(`${existing.join(", ")} already exists (use --force to replace)`);
}

/** The config the command line names, read when a subcommand runs. */
export const configOf = (program: Command) => (): LoadedConfig => loadConfig({ path: program.opts<{ config?: string }>().config });

export const tlsDir = (cfg: LoadedConfig) => resolvePath(cfg, cfg.tls.dir);
