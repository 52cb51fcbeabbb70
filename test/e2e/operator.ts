/**
 * An operator's setup of the real `demarc` binary for the system tests: a
 * working folder with the shipped policy plus the test's own rules, a
 * certificate installed with `demarc certs install`, users made with
 * `demarc users add`, and the config file written the way an operator would.
 */
import { cpSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { stringify } from "yaml";
import { ROOT, demarcCommand, workdir } from "../helpers/demarc.js";

export interface Operator {
  dir: string;
  configPath: string;
  policyDir: string;
  /** Runs `demarc --config demarc.yaml ARGS` to completion; fails the test on a non-zero exit unless allowed. */
  demarc(args: string[], opts?: { allowFail?: boolean }): Promise<{ code: number | null; stdout: string; stderr: string }>;
}

export function operatorDir(config: Record<string, unknown>, extraPolicies: Record<string, string>): Operator {
  const { dir, configPath } = workdir(config);
  const policyDir = join(dir, "policies");
  cpSync(join(ROOT, "policies"), policyDir, { recursive: true });
  for (const [name, text] of Object.entries(extraPolicies)) writeFileSync(join(policyDir, name), text);
  return {
    dir,
    configPath,
    policyDir,
    async demarc(args, opts = {}) {
      const r = await demarcCommand(["--config", configPath, ...args], { cwd: dir });
      if (r.code !== 0 && !opts.allowFail) throw new Error(`demarc ${args.join(" ")} exited ${r.code}: ${r.stderr.trim()} ${r.stdout.trim()}`);
      return r;
    },
  };
}

export const yaml = stringify;
