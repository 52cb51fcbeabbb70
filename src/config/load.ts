/**
 * Reads demarc.yaml, validates it against the schema and reports problems as
 * "FILE:LINE: key.path: message", one per line, so an operator can go straight
 * to the mistake.
 */
import { readFileSync } from "node:fs";
import { dirname, isAbsolute, resolve } from "node:path";
import { isMap, isScalar, LineCounter, parseDocument, type Document } from "yaml";
import type { z } from "zod";
import { ConfigError } from "../errors.js";
import { configSchema, type Config } from "./schema.js";

export interface LoadedConfig extends Config {
  /** The file it came from, or undefined when running on defaults. */
  source?: string | undefined;
  /** Relative paths in the config are resolved against this folder. */
  baseDir: string;
  /**
   * Settings whose ${VARIABLE} is not set, left empty until something uses
   * them (only DEFERRABLE keys): the CLI's database commands do not need the
   * admin token, the gateway and the admin API calls do (requireSettings).
   */
  unresolved?: Record<string, string> | undefined;
}

/** Settings that may stay unresolved until used: only what some commands never touch. */
const DEFERRABLE = new Set(["admin.token"]);

/** Throws the config error an unset variable behind one of these settings (all when none named) would have raised at load. */
export function requireSettings(cfg: LoadedConfig, ...keys: string[]): void {
  for (const [key, variable] of Object.entries(cfg.unresolved ?? {})) {
    if (keys.length && !keys.includes(key)) continue;
    throw new ConfigError(`${cfg.source ?? "config"}: environment variable ${variable} is referenced but not set (${key})`);
  }
}

export interface LoadOptions {
  path?: string | undefined;
  env?: NodeJS.ProcessEnv;
  /** Overrides from the command line, applied after the file. */
  overrides?: Partial<Config>;
}

/** Finds the file: --config, then DEMARC_CONFIG; with neither, every setting takes its default. */
export function configPath(explicit: string | undefined, env: NodeJS.ProcessEnv): string | undefined {
  return explicit ?? env.DEMARC_CONFIG ?? undefined;
}

export function loadConfig(opts: LoadOptions = {}): LoadedConfig {
  const env = opts.env ?? process.env;
  const path = configPath(opts.path, env);
  let raw: unknown = {};
  const unresolved: Record<string, string> = {};
  let doc: Document | undefined;
  let lines: LineCounter | undefined;
  if (path) {
    let text: string;
    try {
      text = readFileSync(path, "utf8");
    } catch (err) {
      throw new ConfigError(`${path}: cannot read config file (${(err as NodeJS.ErrnoException).code ?? "error"})`);
    }
    lines = new LineCounter();
    doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
    const first = doc.errors[0];
    if (first) {
      const line = first.linePos?.[0]?.line ?? lines.linePos(first.pos[0]).line;
      throw new ConfigError(`${path}:${line}: YAML syntax: ${first.message.split("\n")[0]}`);
    }
    raw = doc.toJS() ?? {};
    if (typeof raw !== "object" || Array.isArray(raw)) {
      throw new ConfigError(`${path}:1: the config file must be a mapping of settings`);
    }
    raw = interpolate(raw, env, path, [], unresolved);
  }
  const merged = { ...(raw as object), ...(opts.overrides ?? {}) } as Record<string, unknown>;
  applyEnv(merged, env);
  const parsed = configSchema.safeParse(merged);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ConfigError(describeIssue(issue, path, doc, lines));
  }
  const baseDir = path ? dirname(resolve(path)) : process.cwd();
  return { ...parsed.data, source: path, baseDir, ...(Object.keys(unresolved).length ? { unresolved } : {}) };
}

/** Secrets stay out of the file: these variables win over it. */
function applyEnv(cfg: Record<string, unknown>, env: NodeJS.ProcessEnv): void {
  if (env.DEMARC_ARCHIVE_URL) {
    cfg.archive = { ...((cfg.archive as object | undefined) ?? {}), url: env.DEMARC_ARCHIVE_URL };
  }
}

/**
 * NAME_FILE names a file holding NAME's value (a container secret such as
 * /run/secrets/db_password), the convention official images use, so a
 * password need not sit in the environment. One trailing newline is dropped.
 */
function secretFile(env: NodeJS.ProcessEnv, name: string, file: string): string | undefined {
  const path = env[`${name}_FILE`];
  if (path === undefined) return undefined;
  try {
    return readFileSync(path, "utf8").replace(/\r?\n$/, "");
  } catch (err) {
    throw new ConfigError(`${file}: ${name}_FILE=${path}: cannot read (${(err as NodeJS.ErrnoException).code ?? "error"})`);
  }
}

/** ${NAME} in any string value is replaced by the environment variable NAME (or the file NAME_FILE names). */
function interpolate(value: unknown, env: NodeJS.ProcessEnv, file: string, at: string[], unresolved: Record<string, string>): unknown {
  if (typeof value === "string") {
    const key = at.join(".");
    let missing: string | undefined;
    const out = value.replace(/\$\{([A-Z0-9_]+)\}/gi, (m: string, name: string) => {
      const v = env[name] ?? secretFile(env, name, file);
      // A password put into a URL must not end the userinfo early ('@', '/', ':' in it); a whole URL from a variable stays as it is.
      if (v !== undefined) return key === "archive.url" && value !== m ? encodeURIComponent(v) : v;
      if (!DEFERRABLE.has(key)) throw new ConfigError(`${file}: environment variable ${name} is referenced but not set`);
      missing ??= name;
      return "";
    });
    if (missing === undefined) return out;
    unresolved[key] = missing;
    return "";
  }
  if (Array.isArray(value)) return value.map((v, i) => interpolate(v, env, file, [...at, String(i)], unresolved));
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolate(v, env, file, [...at, k], unresolved)]));
  }
  return value;
}

function describeIssue(
  issue: z.core.$ZodIssue,
  path: string | undefined,
  doc: Document | undefined,
  lines: LineCounter | undefined,
): string {
  const keyPath = issue.path.map(String);
  let message = issue.message;
  let line: number | undefined;
  if (issue.code === "unrecognized_keys") {
    const key = issue.keys[0]!;
    message = `unknown key "${key}"`;
    line = lineOf(doc, lines, issue.path, key);
    keyPath.push(key);
  } else {
    line = lineOf(doc, lines, issue.path);
  }
  const where = path ? `${path}${line ? `:${line}` : ""}: ` : "config: ";
  return `${where}${keyPath.join(".") || "(top level)"}: ${message}`;
}

/** Line of the node at a key path; for a key that is present, the line of the key itself. */
function lineOf(
  doc: Document | undefined,
  lines: LineCounter | undefined,
  keyPath: PropertyKey[],
  childKey?: string,
): number | undefined {
  if (!doc || !lines) return undefined;
  // Walk down as far as the document goes, so a missing key reports its parent.
  let depth = keyPath.length;
  let node: unknown;
  for (; depth >= 0; depth--) {
    node = doc.getIn(keyPath.slice(0, depth) as unknown[], true);
    if (node) break;
  }
  if (childKey !== undefined && isMap(node)) {
    const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === childKey);
    if (pair && isScalar(pair.key) && pair.key.range) return lines.linePos(pair.key.range[0]).line;
  }
  const range = (node as { range?: [number, number, number] } | undefined)?.range;
  return range ? lines.linePos(range[0]).line : undefined;
}

export function resolvePath(cfg: Pick<LoadedConfig, "baseDir">, p: string): string {
  return isAbsolute(p) ? p : resolve(cfg.baseDir, p);
}
