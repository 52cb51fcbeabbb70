/**
 * The rules engine: rules run in file order, each tested against the envelope
 * as earlier rules left it (so a second redaction sees the first one's text).
 * An enforced allow, block or quarantine ends this stage; shadow rules are
 * evaluated and recorded but change nothing.
 */
import { contentOf } from "../content.js";
import { redact } from "../lexicon/lexicon.js";
import type { CompiledRule } from "../policy/compile.js";
import type { Stage, StageInput, Verdict } from "../stage.js";

export function rulesStage(name: "rules" | "lexicons", rules: CompiledRule[]): Stage {
  const mine = rules.filter((r) => r.stage === name);
  return {
    name,
    evaluate({ envelope, now }: StageInput): Verdict[] {
      const out: Verdict[] = [];
      let text = contentOf(envelope);
      for (const rule of mine) {
        if (!rule.applies(envelope, now)) continue;
        if (rule.content && (text === undefined || !rule.content.test(text))) continue;
        const base = { ruleId: rule.id, shadow: rule.shadow, reason: rule.then.reason };
        const t = rule.then;
        switch (t.action) {
          case "allow":
          case "block":
          case "quarantine":
            out.push({ ...base, action: t.action });
            if (!rule.shadow) return out;
            break;
          case "redact": {
            if (text === undefined || !rule.redacts) break;
            const r = redact(text, rule.redacts.find(text), t.replacement);
            if (r.count === 0) break;
            out.push({ ...base, action: "redact", body: r.text, count: r.count });
            if (!rule.shadow) text = r.text;
            break;
          }
          case "tag":
            out.push({ ...base, action: "tag", tags: t.tags });
            break;
          case "disclaimer":
            out.push({ ...base, action: "disclaimer", text: t.text, position: t.position });
            break;
          case "copy":
            out.push({ ...base, action: "copy", to: t.to });
            break;
        }
      }
      return out;
    },
  };
}
