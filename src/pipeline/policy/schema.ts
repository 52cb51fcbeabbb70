/**
 * The schema of policy files, documented for compliance officers in
 * policies/README.md. Two kinds are ours: "policy" (groups, rules, walls,
 * limits, external servers, profiles) and "lexicon" (one word list per file).
 */
import { z } from "zod";
import { DAYS } from "../patterns.js";
import { extensionsSchema } from "./extensions.js";

const KINDS = ["message", "presence", "subscription", "groupchat", "file-transfer", "iq"] as const;
const DIRECTIONS = ["inbound", "outbound", "internal"] as const;
export const ACTIONS = ["allow", "block", "redact", "quarantine", "tag", "disclaimer", "copy"] as const;

/** One value or a list of them; always a list after parsing. */
function oneOrMany<T extends z.ZodType>(item: T) {
  const options = item instanceof z.ZodEnum ? `one of ${(item.options as string[]).join(", ")}, or a list of them` : "a value or a list of values";
  return z.union([item, z.array(item).min(1)], { error: () => `must be ${options}` }).transform((v) => (Array.isArray(v) ? v : [v]) as z.output<T>[]);
}

const id = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$/, "ids are letters, digits and . _ : - (at most 100), starting with a letter or digit");
const text = z.string().min(1).max(2000);
const patterns = z.array(z.string().min(1)).min(1);

const common = { id, description: z.string().optional(), enabled: z.boolean().default(true), shadow: z.boolean().default(false) };

export const whenSchema = z
  .object({
    direction: oneOrMany(z.enum(DIRECTIONS)).optional(),
    partners: patterns.optional(),
    from: patterns.optional(),
    to: patterns.optional(),
    users: patterns.optional(),
    kind: oneOrMany(z.enum(KINDS)).optional(),
    body: patterns.optional(),
    words: patterns.optional(),
    lexicons: z.array(id).min(1).optional(),
    time: z
      .object({
        days: z.array(z.enum(DAYS)).min(1).optional(),
        hours: z.string().regex(/^\d{1,2}:\d{2}\s*-\s*\d{1,2}:\d{2}$/, 'hours are "HH:MM-HH:MM"').optional(),
        zone: z.string().optional(),
      })
      .strict()
      .optional(),
  })
  .strict();

const reason = { reason: text.optional() };

export const thenSchema = z.discriminatedUnion(
  "action",
  [
    z.object({ action: z.literal("allow"), ...reason }).strict(),
    z.object({ action: z.literal("block"), ...reason }).strict(),
    z.object({ action: z.literal("quarantine"), ...reason }).strict(),
    z
      .object({
        action: z.literal("redact"),
        replacement: z.string().max(100).default("[REDACTED]"),
        patterns: patterns.optional(),
        lexicons: z.array(id).min(1).optional(),
        ...reason,
      })
      .strict(),
    z.object({ action: z.literal("tag"), tags: z.array(z.string().regex(/^[\w.:-]{1,64}$/, "tags are short words")).min(1), ...reason }).strict(),
    z.object({ action: z.literal("disclaimer"), text, position: z.enum(["append", "prepend"]).default("append"), ...reason }).strict(),
    z.object({ action: z.literal("copy"), to: z.string().regex(/^[^@\s/]+@[^@\s/]+$/, "copy goes to one address, user@domain"), ...reason }).strict(),
  ],
  { error: () => `action must be one of ${ACTIONS.join(", ")}` },
);

export const ruleSchema = z.object({ ...common, when: whenSchema.prefault({}), then: thenSchema }).strict();

export const wallSchema = z
  .object({
    ...common,
    from: oneOrMany(z.string().min(1)),
    to: oneOrMany(z.string().min(1)),
    both_ways: z.boolean().default(true),
    kinds: oneOrMany(z.enum(KINDS)).optional(),
    reason: text.optional(),
  })
  .strict();

export const limitSchema = z
  .object({
    ...common,
    per: z.enum(["partner", "user"]),
    partners: patterns.optional(),
    users: patterns.optional(),
    direction: oneOrMany(z.enum(DIRECTIONS)).optional(),
    kinds: oneOrMany(z.enum(KINDS)).optional(),
    max_messages: z.number().int().positive().optional(),
    window_s: z.number().positive().max(86_400).default(60),
    max_body_bytes: z.number().int().positive().optional(),
    reason: text.optional(),
  })
  .strict()
  .refine((l) => l.max_messages !== undefined || l.max_body_bytes !== undefined, "a limit needs max_messages or max_body_bytes");

export const externalSchema = z
  .object({
    ...common,
    url: z.url({ protocol: /^https?$/, error: "url must be an http:// or https:// address" }),
    timeout_ms: z.number().int().min(10).max(30_000).default(1000),
    on_unreachable: z.enum(["fail-open", "fail-closed"]).default("fail-closed"),
    /** The largest answer read (1 MiB by default); a longer one counts as unreachable, so on_unreachable applies. */
    max_response_bytes: z.number().int().min(256).max(64 * 1024 * 1024).default(1024 * 1024),
    headers: z.record(z.string(), z.string()).default({}),
  })
  .strict();

export const profileSchema = z
  .object({
    id,
    description: z.string().optional(),
    kinds: oneOrMany(z.enum(KINDS)).optional(),
    direction: oneOrMany(z.enum(DIRECTIONS)).optional(),
    partners: patterns.optional(),
    priority: z.number().int().default(0),
    stages: z.array(z.string().min(1)),
  })
  .strict();

export const policyFileSchema = z
  .object({
    kind: z.literal("policy"),
    description: z.string().optional(),
    groups: z.record(id, z.array(z.string().min(1))).default({}),
    rules: z.array(ruleSchema).default([]),
    walls: z.array(wallSchema).default([]),
    limits: z.array(limitSchema).default([]),
    external: z.array(externalSchema).default([]),
    profiles: z.array(profileSchema).default([]),
    /** Elements the edge does not model: src/pipeline/policy/extensions.ts. */
    extensions: extensionsSchema,
  })
  .strict();

export const lexiconFileSchema = z
  .object({
    kind: z.literal("lexicon"),
    id,
    description: z.string().optional(),
    enabled: z.boolean().default(true),
    detect: z.array(z.string()).optional(),
    words: patterns.optional(),
    patterns: patterns.optional(),
    /** What the lexicons stage does on its own when the lexicon matches; without it the lexicon only serves rules. */
    on_match: z.intersection(thenSchema, z.object({ shadow: z.boolean().default(false) })).optional(),
  })
  .strict()
  .refine((l) => l.detect?.length || l.words?.length || l.patterns?.length, "a lexicon needs detect, words or patterns");

export type PolicyFile = z.output<typeof policyFileSchema>;
export type LexiconFile = z.output<typeof lexiconFileSchema>;
export type RuleDef = z.output<typeof ruleSchema>;
export type WhenDef = z.output<typeof whenSchema>;
export type ThenDef = z.output<typeof thenSchema>;
export type WallDef = z.output<typeof wallSchema>;
export type LimitDef = z.output<typeof limitSchema>;
export type ExternalDef = z.output<typeof externalSchema>;
export type ProfileDef = z.output<typeof profileSchema>;
export { KINDS, DIRECTIONS };
