/**
 * Reads demarc.yaml, validates it against the schema and reports problems as
 * "FILE:LINE: key.path: message", one per line, so an operator can go straight
 * to the mistake.
 */
import { readFileSync } from "node:fs";
import { dirname, isAbsolute, resolve } from "node:path";
import { isMap, isScalar, LineCounter, parseDocument, type Document } from "yaml";
import type { z } from "zod";
import { ConfigError, DemarcError } from "../errors.js";
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
    throw new ConfigError(`${cfg.source ?? "config"}: environment variable ${variable} is referenced but not set (${key})`, "E_CONFIG_ENV");
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

/** The file as read: its settings with ${NAME} replaced, and where each key sits. */
interface ConfigFile {
  raw: Record<string, unknown>;
  at: Lines;
  unresolved: Record<string, string>;
}

/** A document and its line counter, to name the line of a key path. */
interface Lines {
  doc: Document;
  lines: LineCounter;
}

export function loadConfig(opts: LoadOptions = {}): LoadedConfig {
  const env = opts.env ?? process.env;
  const path = configPath(opts.path, env);
  const file = path ? readConfigFile(path, env) : undefined;
  const merged = { ...(file?.raw ?? {}), ...(opts.overrides ?? {}) } as Record<string, unknown>;
  applyEnv(merged, env);
  const parsed = configSchema.safeParse(merged);
  if (!parsed.success) throw new ConfigError(describeIssues(parsed.error.issues, path, file?.at), "E_CONFIG_INVALID");
  const baseDir = path ? dirname(resolve(path)) : process.cwd();
  const unresolved = file?.unresolved ?? {};
  return { ...parsed.data, source: path, baseDir, ...(Object.keys(unresolved).length ? { unresolved } : {}) };
}

/** Reads, parses and interpolates the file; every syntax error, or every unset variable, is listed at once. */
function readConfigFile(path: string, env: NodeJS.ProcessEnv): ConfigFile {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new DemarcError("E_CONFIG_READ", { file: path, reason: (err as NodeJS.ErrnoException).code ?? "error" });
  }
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length) {
    const syntax = doc.errors.map((e) => `${path}:${e.linePos?.[0]?.line ?? lines.linePos(e.pos[0]).line}: YAML syntax: ${e.message.split("\n")[0]}`);
    throw new ConfigError(syntax, "E_CONFIG_SYNTAX");
  }
  const raw: unknown = doc.toJS() ?? {};
  if (typeof raw !== "object" || Array.isArray(raw)) {
    throw new ConfigError(`${path}:1: the config file must be a mapping of settings`, "E_CONFIG_INVALID");
  }
  const at = { doc, lines };
  const unresolved: Record<string, string> = {};
  const problems: Problem[] = [];
  const out = interpolate(raw, { env, file: path, at, unresolved, problems }, []) as Record<string, unknown>;
  if (problems.length) throw new ConfigError(inLineOrder(problems), "E_CONFIG_ENV");
  return { raw: out, at, unresolved };
}

/** Secrets stay out of the file: these variables win over it. */
function applyEnv(cfg: Record<string, unknown>, env: NodeJS.ProcessEnv): void {
  if (env.DEMARC_ARCHIVE_URL) {
    cfg.archive = { ...((cfg.archive as object | undefined) ?? {}), url: env.DEMARC_ARCHIVE_URL };
  }
}

interface Problem {
  line: number | undefined;
  text: string;
}

/** The problems as the operator reads the file: top to bottom. */
function inLineOrder(problems: Problem[]): string[] {
  return [...problems].sort((a, b) => (a.line ?? Infinity) - (b.line ?? Infinity)).map((p) => p.text);
}

interface Interpolation {
  env: NodeJS.ProcessEnv;
  file: string;
  at: Lines;
  unresolved: Record<string, string>;
  problems: Problem[];
}

/**
 * NAME_FILE names a file holding NAME's value (a container secret such as
 * /run/secrets/db_password), the convention official images use, so a
 * password need not sit in the environment. One trailing newline is dropped.
 */
function secretFile(env: NodeJS.ProcessEnv, name: string): { value?: string; error?: string } {
  const path = env[`${name}_FILE`];
  if (path === undefined) return {};
  try {
    return { value: readFileSync(path, "utf8").replace(/\r?\n$/, "") };
  } catch (err) {
    return { error: `${name}_FILE=${path}: cannot read (${(err as NodeJS.ErrnoException).code ?? "error"})` };
  }
}

/** ${NAME} in any string value is replaced by the environment variable NAME (or the file NAME_FILE names). */
function interpolate(value: unknown, ctx: Interpolation, at: string[]): unknown {
  if (typeof value === "string") return interpolateString(value, ctx, at);
  if (Array.isArray(value)) return value.map((v, i) => interpolate(v, ctx, [...at, String(i)]));
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolate(v, ctx, [...at, k])]));
  }
  return value;
}

function interpolateString(value: string, ctx: Interpolation, at: string[]): string {
  const key = at.join(".");
  let missing: string | undefined;
  const problem = (text: string) => {
    const line = lineOf(ctx.at, at);
    ctx.problems.push({ line, text: `${ctx.file}${line ? `:${line}` : ""}: ${key}: ${text}` });
  };
  const out = value.replace(/\$\{([A-Z0-9_]+)\}/gi, (m: string, name: string) => {
    const fromFile = ctx.env[name] === undefined ? secretFile(ctx.env, name) : {};
    if (fromFile.error) problem(fromFile.error);
    const v = ctx.env[name] ?? fromFile.value;
    // A password put into a URL must not end the userinfo early ('@', '/', ':' in it); a whole URL from a variable stays as it is.
    if (v !== undefined) return key === "archive.url" && value !== m ? encodeURIComponent(v) : v;
    if (fromFile.error) return "";
    if (!DEFERRABLE.has(key)) problem(`environment variable ${name} is referenced but not set`);
    missing ??= name;
    return "";
  });
  if (missing === undefined) return out;
  ctx.unresolved[key] = missing;
  return "";
}

/** Every schema problem, one line each: FILE:LINE: key.path: problem. */
function describeIssues(issues: readonly z.core.$ZodIssue[], path: string | undefined, at: Lines | undefined): string[] {
  const problems: Problem[] = [];
  const where = (line: number | undefined) => (path ? `${path}${line ? `:${line}` : ""}: ` : "config: ");
  for (const issue of issues) {
    const keyPath = issue.path.map(String);
    if (issue.code === "unrecognized_keys") {
      for (const key of issue.keys) {
        const line = lineOf(at, issue.path, key);
        problems.push({ line, text: `${where(line)}${[...keyPath, key].join(".")}: unknown key "${key}"` });
      }
      continue;
    }
    const line = lineOf(at, issue.path);
    problems.push({ line, text: `${where(line)}${keyPath.join(".") || "(top level)"}: ${issue.message}` });
  }
  return inLineOrder(problems);
}

/** Line of the node at a key path; for a key that is present, the line of the key itself. */
function lineOf(at: Lines | undefined, keyPath: PropertyKey[], childKey?: string): number | undefined {
  if (!at) return undefined;
  const { doc, lines } = at;
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
