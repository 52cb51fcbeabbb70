/**
 * Loading a policy folder in one call: read, validate, compile. The result is
 * either a whole PolicySet or a PolicyError listing every problem; nothing in
 * between, which is what makes reloads atomic.
 */
import { existsSync, statSync } from "node:fs";
import { relative } from "node:path";
import { compilePolicy, type CompileOptions, type PolicySet } from "./compile.js";
import { PolicyError, readPolicyDir } from "./load.js";

export { PolicyError };
export type { PolicySet };

export interface LoadedPolicy {
  set: PolicySet;
  /** The folder does not exist: the set is empty. */
  missing: boolean;
}

/** Names files relative to the working folder when inside it, so errors read like "policies/10-dlp.yaml:12". */
export function displayPath(file: string): string {
  const rel = relative(process.cwd(), file);
  return rel && !rel.startsWith("..") ? rel : file;
}

export function loadPolicy(dir: string, opts: CompileOptions = {}): LoadedPolicy {
  const missing = !existsSync(dir);
  if (!missing && !statSync(dir).isDirectory()) throw new PolicyError([`${displayPath(dir)}: not a folder`]);
  return { set: compilePolicy(readPolicyDir(dir, displayPath), opts), missing };
}
