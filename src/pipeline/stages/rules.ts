/**
 * The rules engine: rules run in file order, each tested against the envelope
 * as earlier rules left it (so a second redaction sees the first one's text).
 * A content condition holds when any part of the envelope matches (body,
 * subject, XHTML, link and file descriptions, invitation reasons, status,
 * nickname, extensions' text: src/pipeline/content.ts); a redaction rewrites
 * every part it matches. An enforced allow, block or quarantine ends this
 * stage; shadow rules are evaluated and recorded but change nothing.
 */
import { contentOf, toOriginalSpans } from "../content.js";
import { redact } from "../lexicon/lexicon.js";
import type { CompiledRule } from "../policy/compile.js";
import { MatchableParts, type Part } from "../parts.js";
import type { Stage, StageInput, Verdict } from "../stage.js";

/**
 * Redacts every part: spans are found in the matchable form and replaced in
 * the text as written, so the rest of a part is delivered as the sender wrote it.
 */
function redactParts(parts: Part[], rule: CompiledRule, replacement: string): { changes: Record<string, string>; count: number } {
  const changes: Record<string, string> = {};
  let count = 0;
  for (const p of parts) {
    const r = redact(p.text, toOriginalSpans(p.m, rule.redacts!.find(p.m.text)), replacement);
    if (r.count === 0) continue;
    changes[p.path] = r.text;
    count += r.count;
  }
  return { changes, count };
}

export function rulesStage(name: "rules" | "lexicons", rules: CompiledRule[]): Stage {
  const mine = rules.filter((r) => r.stage === name);
  return {
    name,
    evaluate({ envelope, now, parts }: StageInput): Verdict[] {
      const out: Verdict[] = [];
      // Matching runs on the matchable form (src/pipeline/matchable.ts); a part no rule touches is delivered as written.
      let content = parts?.envelope === envelope ? parts : new MatchableParts(envelope);
      for (const rule of mine) {
        if (!rule.applies(envelope, now)) continue;
        if (rule.content && !rule.content.test(content.joined)) continue;
        const t = rule.then;
        switch (t.action) {
          case "allow":
          case "block":
          case "quarantine":
            out.push({ ruleId: rule.id, shadow: rule.shadow, reason: t.reason, action: t.action });
            if (!rule.shadow) return out;
            break;
          case "redact": {
            if (!rule.redacts) break;
            const { changes, count } = redactParts(content.parts, rule, t.replacement);
            if (count === 0) break;
            const body = contentOf(envelope) === undefined ? undefined : changes[envelope.kind === "presence" ? "status" : "body"];
            out.push({ ruleId: rule.id, shadow: rule.shadow, reason: t.reason, action: "redact", parts: changes, count, ...(body !== undefined ? { body } : {}) });
            if (!rule.shadow) content = content.redacted(changes);
            break;
          }
          case "tag":
            out.push({ ruleId: rule.id, shadow: rule.shadow, reason: t.reason, action: "tag", tags: t.tags });
            break;
          case "disclaimer":
            out.push({ ruleId: rule.id, shadow: rule.shadow, reason: t.reason, action: "disclaimer", text: t.text, position: t.position });
            break;
          case "copy":
            out.push({ ruleId: rule.id, shadow: rule.shadow, reason: t.reason, action: "copy", to: t.to });
            break;
        }
      }
      return out;
    },
  };
}
