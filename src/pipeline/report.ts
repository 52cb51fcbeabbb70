/**
 * What `demarc policy test` prints: which rules fired, the verdict, and the
 * text the recipient would see, in words a compliance officer reads.
 */
import type { Envelope } from "../model/envelope.js";
import { contentOf } from "./content.js";
import type { Trace } from "./pipeline.js";
import type { PolicySet } from "./policy/compile.js";

const ACTION_WORD: Record<string, string> = {
  allow: "ALLOW",
  block: "BLOCK",
  quarantine: "QUARANTINE",
  redact: "REDACT",
  tag: "TAG",
  disclaimer: "DISCLAIMER",
  copy: "COPY",
};

export function formatTrace(set: PolicySet, original: Envelope, trace: Trace): string {
  const { decision } = trace;
  const out: string[] = [];
  out.push(`Policy version ${set.version} (${set.files.length} file${set.files.length === 1 ? "" : "s"}, ${set.rules.length} active rules)`);
  const partner = original.partnerDomain ? ` (partner ${original.partnerDomain})` : "";
  out.push(`Sample: ${original.direction} ${original.kind} from ${original.from} to ${original.to}${partner}`);
  out.push(`Checked by: ${trace.profile ? `profile ${trace.profile}` : "the default chain"}: ${trace.stages.length ? trace.stages.join(" -> ") : "no stages"}`);
  out.push("");
  if (!decision.verdicts.length) out.push("No rule fired.");
  else {
    out.push("Rules that fired, in order:");
    decision.verdicts.forEach((v, i) => {
      const mode = v.shadow ? "  [SHADOW: recorded only, not enforced]" : "";
      const detail = v.detail ? ` (${v.detail})` : "";
      out.push(`  ${i + 1}. ${v.ruleId ?? v.stage}: ${ACTION_WORD[v.action] ?? v.action.toUpperCase()}${detail}${mode}`);
      if (v.reason) out.push(`       reason: ${v.reason}`);
      out.push(`       stage: ${v.stage}`);
    });
  }
  out.push("");
  if (decision.deliver) {
    const changed = contentOf(decision.envelope) !== contentOf(original);
    out.push(`Verdict: DELIVERED${changed ? ", with changes" : ""}`);
  } else if (decision.quarantined) {
    out.push("Verdict: QUARANTINED: held for review, not delivered");
    out.push(`The sender is told: ${decision.error?.text ?? ""}`);
  } else {
    out.push("Verdict: BLOCKED: not delivered");
    out.push(`The sender is told: ${decision.error?.text ?? ""} (${decision.error?.condition ?? "policy-violation"})`);
  }
  if (decision.envelope.tags?.length) out.push(`Archive tags: ${decision.envelope.tags.join(", ")}`);
  for (const c of decision.copies ?? []) out.push(`A copy goes to: ${c.to}`);
  const text = contentOf(decision.envelope);
  if (decision.deliver && text !== undefined) {
    out.push("");
    out.push("The recipient sees:");
    for (const line of text.split("\n")) out.push(`  | ${line}`);
  }
  return out.join("\n") + "\n";
}
