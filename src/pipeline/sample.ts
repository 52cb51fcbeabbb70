/**
 * Sample messages for `demarc policy test`: a small YAML file a compliance
 * officer writes by hand, turned into the Envelope the gateway would build.
 */
import { readFileSync } from "node:fs";
import { LineCounter, parseDocument } from "yaml";
import { z } from "zod";
import { domainOf, type Envelope } from "../model/envelope.js";
import { ConfigError } from "../errors.js";
import { RICH_STATES } from "../model/presence.js";
import { DIRECTIONS, KINDS } from "./policy/schema.js";
import { expectSchema, type Expectation } from "./expect.js";

const address = z.string().regex(/^[^@\s]+@[^@\s]+$|^[^@\s]+$/, "an address like user@domain");

export const sampleSchema = z
  .object({
    direction: z.enum(DIRECTIONS).default("outbound"),
    kind: z.enum(KINDS).default("message"),
    from: address,
    to: address,
    /** The partner domain; by default the far side's domain (to for outbound, from for inbound). */
    partner: z.string().optional(),
    body: z.string().optional(),
    subject: z.string().optional(),
    /** For kind presence. */
    state: z.enum(RICH_STATES).optional(),
    note: z.string().optional(),
    /** When it is sent (ISO 8601); now by default. Time windows are checked against it. */
    at: z.union([z.string(), z.date()]).optional(),
    /** What the policy should decide, for `policy test --samples` (policy regression tests). */
    expect: expectSchema.optional(),
  })
  .strict();

export function readSample(path: string): { envelope: Envelope; at: number; expect: Expectation | undefined } {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new ConfigError(`${path}: cannot read sample message (${(err as NodeJS.ErrnoException).code ?? "error"})`);
  }
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  const first = doc.errors[0];
  if (first) throw new ConfigError(`${path}:${lines.linePos(first.pos[0]).line}: YAML syntax: ${first.message.split("\n")[0]}`);
  const parsed = sampleSchema.safeParse(doc.toJS());
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const key = issue.code === "unrecognized_keys" ? issue.keys[0]! : issue.path.join(".");
    const at = issue.code === "unrecognized_keys" ? [...issue.path, issue.keys[0]!] : issue.path;
    const node = doc.getIn(at as (string | number)[], true) as { range?: [number] } | undefined;
    const line = node?.range ? `:${lines.linePos(node.range[0]).line}` : "";
    throw new ConfigError(`${path}${line}: ${key || "(top level)"}: ${issue.code === "unrecognized_keys" ? "unknown key" : issue.message}`);
  }
  const s = parsed.data;
  const at = s.at === undefined ? Date.now() : new Date(s.at).getTime();
  if (Number.isNaN(at)) throw new ConfigError(`${path}: at: not a date and time (use e.g. 2026-03-02T10:30:00Z)`);
  const partner = s.partner ?? (s.direction === "outbound" ? domainOf(s.to) : s.direction === "inbound" ? domainOf(s.from) : undefined);
  const envelope: Envelope = {
    id: "sample",
    receivedAt: at,
    direction: s.direction,
    protocol: s.direction === "internal" ? "internal" : "xmpp",
    kind: s.kind,
    from: s.from,
    to: s.to,
    partnerDomain: partner,
    body: s.kind === "presence" ? undefined : s.body,
    subject: s.subject,
    presence: s.kind === "presence" ? { state: s.state ?? "available", note: s.note ?? s.body } : undefined,
  };
  return { envelope, at, expect: s.expect };
}
