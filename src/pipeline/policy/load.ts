/**
 * Reads a policy folder: every *.yaml / *.yml file directly in it, in file-name
 * order, each with a top-level `kind:`. Policy and lexicon files are parsed
 * and validated here; other kinds (state-map) belong to other parts and are
 * skipped. Every problem is reported as "FILE:LINE: rule ID: message".
 */
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Document } from "yaml";
import type { z } from "zod";
import { ConfigError } from "../../errors.js";
import { lexiconFileSchema, policyFileSchema, type LexiconFile, type PolicyFile } from "./schema.js";

export const OUR_KINDS = ["policy", "lexicon"] as const;
const OTHER_KINDS = ["state-map"];

/** Where a definition came from, for errors and `demarc policy explain`. */
export interface Origin {
  file: string;
  line: number;
}

export interface ParsedFile<T> {
  file: string;
  data: T;
  /** Line of the node at a path inside the file (1 when unknown). */
  lineAt(path: (string | number)[]): number;
}

export interface ParsedPolicy {
  dir: string;
  /** Hash of the loaded files' names and contents: recorded with every verdict. */
  version: string;
  files: string[];
  policies: ParsedFile<PolicyFile>[];
  lexicons: ParsedFile<LexiconFile>[];
  /** Files of other kinds, skipped. */
  skipped: string[];
}

export class PolicyError extends ConfigError {
  constructor(problems: readonly string[]) {
    super(problems, "E_POLICY");
  }
}

/** Lists the policy files of a folder in the order they are read; [] when the folder does not exist. */
export function policyFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => /\.ya?ml$/i.test(f) && !f.startsWith("."))
    .filter((f) => statSync(join(dir, f)).isFile())
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** Reads and validates every file; throws PolicyError listing all problems found. */
export function readPolicyDir(dir: string, display: (file: string) => string = (f) => f): ParsedPolicy {
  const problems: string[] = [];
  const hash = createHash("sha256");
  const out: ParsedPolicy = { dir, version: "", files: [], policies: [], lexicons: [], skipped: [] };
  for (const name of policyFiles(dir)) {
    const file = display(join(dir, name));
    let text: string;
    try {
      text = readFileSync(join(dir, name), "utf8");
    } catch (err) {
      problems.push(`${file}: cannot read (${(err as NodeJS.ErrnoException).code ?? "error"})`);
      continue;
    }
    const parsed = parseFile(file, text, problems);
    if (!parsed) continue;
    if (parsed.kind === "policy") out.policies.push(parsed.file as ParsedFile<PolicyFile>);
    else if (parsed.kind === "lexicon") out.lexicons.push(parsed.file as ParsedFile<LexiconFile>);
    else {
      out.skipped.push(file);
      continue;
    }
    out.files.push(file);
    hash.update(name).update("\0").update(text).update("\0");
  }
  if (problems.length) throw new PolicyError(problems);
  out.version = hash.digest("hex").slice(0, 16);
  return out;
}

type Parsed = { kind: string; file: ParsedFile<unknown> | undefined };

function parseFile(file: string, text: string, problems: string[]): Parsed | undefined {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const first = doc.errors[0];
  if (first) {
    const line = first.linePos?.[0]?.line ?? lines.linePos(first.pos[0]).line;
    problems.push(`${file}:${line}: YAML syntax: ${first.message.split("\n")[0]}`);
    return undefined;
  }
  const raw = doc.toJS() as unknown;
  if (!raw || typeof raw !== "object" || Array.isArray(raw)) {
    problems.push(`${file}:1: a policy file is a mapping that starts with "kind:"`);
    return undefined;
  }
  const kind = (raw as { kind?: unknown }).kind;
  const lineAt = (path: (string | number)[]) => lineOf(doc, lines, path);
  if (typeof kind === "string" && OTHER_KINDS.includes(kind)) return { kind, file: undefined };
  if (kind !== "policy" && kind !== "lexicon") {
    const known = [...OUR_KINDS, ...OTHER_KINDS].join(", ");
    problems.push(`${file}:${lineAt(["kind"])}: kind: ${kind === undefined ? "missing" : `unknown kind "${String(kind)}"`} (one of ${known})`);
    return undefined;
  }
  const schema = kind === "policy" ? policyFileSchema : lexiconFileSchema;
  const result = schema.safeParse(raw);
  if (!result.success) {
    for (const issue of result.error.issues.slice(0, 10)) problems.push(describe(issue, file, raw, doc, lines));
    return undefined;
  }
  return { kind, file: { file, data: result.data, lineAt } };
}

/** "FILE:LINE: rule ID: key.path: message", naming the rule (or wall, limit...) the issue is in. */
function describe(issue: z.core.$ZodIssue, file: string, raw: unknown, doc: Document, lines: LineCounter): string {
  const path = issue.path.map((p) => (typeof p === "symbol" ? String(p) : p));
  let message = issue.message;
  let line: number;
  if (issue.code === "unrecognized_keys") {
    const key = issue.keys[0]!;
    message = `unknown key "${key}"`;
    line = lineOf(doc, lines, path, key);
    path.push(key);
  } else {
    line = lineOf(doc, lines, path);
  }
  let owner = "";
  const [section, index] = path;
  if (typeof section === "string" && typeof index === "number") {
    const item = (raw as Record<string, unknown[]>)[section]?.[index] as { id?: unknown } | undefined;
    const noun = { rules: "rule", walls: "wall", limits: "limit", external: "external server", profiles: "profile" }[section];
    if (noun) owner = `${noun} ${typeof item?.id === "string" ? item.id : `#${index + 1}`}: `;
  } else if ((raw as { kind?: unknown }).kind === "lexicon" && typeof (raw as { id?: unknown }).id === "string") {
    owner = `lexicon ${(raw as { id: string }).id}: `;
  }
  return `${file}:${line}: ${owner}${path.join(".") || "(top level)"}: ${message}`;
}

function lineOf(doc: Document, lines: LineCounter, keyPath: (string | number)[], childKey?: string): number {
  let node: unknown;
  for (let depth = keyPath.length; depth >= 0; depth--) {
    node = doc.getIn(keyPath.slice(0, depth), true);
    if (node) break;
  }
  if (childKey !== undefined && isMap(node)) {
    const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === childKey);
    if (pair && isScalar(pair.key) && pair.key.range) return lines.linePos(pair.key.range[0]).line;
  }
  if (!node && isSeq(doc.contents)) node = doc.contents;
  const range = (node as { range?: [number, number, number] } | undefined)?.range;
  return range ? lines.linePos(range[0]).line : 1;
}
