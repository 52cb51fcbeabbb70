/**
 * Applies policy's `extensions:` (src/pipeline/policy/extensions.ts) before
 * any stage runs, whatever the profile: an element the edge does not model
 * never crosses by default, and a profile cannot forget to list the check.
 */
import type { Envelope } from "../../model/envelope.js";
import { EXTENSIONS_BLOCK_TEXT, type ExtensionsPolicy } from "../policy/extensions.js";
import type { DeliveryError, VerdictRecord } from "../../model/route.js";

export interface ExtensionsOutcome {
  envelope: Envelope;
  verdict?: VerdictRecord | undefined;
  error?: DeliveryError | undefined;
}

function names(env: Envelope): string {
  return [...new Set((env.extensions ?? []).map((x) => (x.ns ? `{${x.ns}}${x.name}` : x.name)))].join(", ");
}

export function applyExtensions(policy: ExtensionsPolicy, env: Envelope): ExtensionsOutcome {
  if (!env.extensions?.length) return { envelope: env };
  const d = policy(env);
  if (d.action === "pass") return { envelope: env };
  const base = { stage: "extensions", ruleId: d.id, reason: d.reason, detail: `${env.extensions.length} (${names(env)})` };
  if (d.action === "block") {
    return {
      envelope: env,
      verdict: { ...base, action: "block" },
      error: { condition: "policy-violation", type: "modify", text: d.reason ?? EXTENSIONS_BLOCK_TEXT },
    };
  }
  const { extensions: _stripped, ...rest } = env;
  return { envelope: rest, verdict: { ...base, action: "strip" } };
}
