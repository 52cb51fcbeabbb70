/**
 * `extensions:` in policy files: what happens to stanza elements the edge
 * does not model (src/model/content.ts keeps them as trees on
 * Envelope.extensions). Entries are tried in file order; the first whose
 * direction and partners match decides: strip (deliver without them), pass
 * (deliver them; their text is still read by every rule) or block. Without a
 * matching entry, anything crossing the edge (inbound, outbound) is stripped
 * and internal traffic passes.
 */
import { z } from "zod";
import type { Direction, Envelope } from "../../model/envelope.js";
import type { ExtensionAction } from "../../model/content.js";
import { compileDomainPattern } from "../patterns.js";
import type { ParsedFile } from "./load.js";

const DIRECTIONS = ["inbound", "outbound", "internal"] as const;
const ACTIONS = ["strip", "pass", "block"] as const;

const directions = z
  .union([z.enum(DIRECTIONS), z.array(z.enum(DIRECTIONS)).min(1)], { error: () => `must be one of ${DIRECTIONS.join(", ")}, or a list of them` })
  .transform((v) => (Array.isArray(v) ? v : [v]));

export const extensionsSchema = z
  .array(
    z
      .object({
        id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$/, "ids are letters, digits and . _ : - (at most 100)").optional(),
        description: z.string().optional(),
        direction: directions.optional(),
        partners: z.array(z.string().min(1)).min(1).optional(),
        action: z.enum(ACTIONS, { error: () => `action must be one of ${ACTIONS.join(", ")}` }),
        reason: z.string().min(1).max(2000).optional(),
      })
      .strict(),
  )
  .default([]);

export type ExtensionsDef = z.output<typeof extensionsSchema>[number];

export interface ExtensionsDecision {
  action: ExtensionAction;
  /** The entry that decided, or undefined for the default. */
  id: string | undefined;
  reason: string | undefined;
}

export type ExtensionsPolicy = (env: Envelope) => ExtensionsDecision;

export const EXTENSIONS_BLOCK_TEXT = "This message carries content the edge does not accept.";

export function defaultExtensionAction(direction: Direction): ExtensionAction {
  return direction === "internal" ? "pass" : "strip";
}

/** Compiles every file's entries in order; problems (bad partner patterns) are reported with file and line. */
export function compileExtensions(files: ParsedFile<{ extensions: ExtensionsDef[] }>[], problems: string[]): ExtensionsPolicy {
  const entries: { def: ExtensionsDef; test: (e: Envelope) => boolean }[] = [];
  for (const f of files) {
    f.data.extensions.forEach((def, i) => {
      const bad = (def.partners ?? []).findIndex((p) => /[/:@\s]/.test(p));
      if (bad >= 0) {
        problems.push(`${f.file}:${f.lineAt(["extensions", i, "partners", bad])}: extensions ${def.id ?? i}: partner "${def.partners![bad]}" must be a domain or a *-pattern of domains`);
        return;
      }
      const partners = def.partners?.map(compileDomainPattern);
      const dirs = def.direction ? new Set<Direction>(def.direction) : undefined;
      entries.push({
        def,
        test: (e) =>
          (!dirs || dirs.has(e.direction)) && (!partners || (e.partnerDomain !== undefined && partners.some((m) => m(e.partnerDomain!.toLowerCase())))),
      });
    });
  }
  return (env) => {
    const hit = entries.find((x) => x.test(env));
    return hit ? { action: hit.def.action, id: hit.def.id, reason: hit.def.reason } : { action: defaultExtensionAction(env.direction), id: undefined, reason: undefined };
  };
}
