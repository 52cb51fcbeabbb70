/**
 * The rules engine: rules run in file order, each tested against the envelope
 * as earlier rules left it (so a second redaction sees the first one's text).
 * A content condition holds when any part of the envelope matches (body,
 * subject, XHTML, link and file descriptions, invitation reasons, status,
 * nickname, extensions' text: src/pipeline/content.ts); a redaction rewrites
 * every part it matches. An enforced allow, block or quarantine ends this
 * stage; shadow rules are evaluated and recorded but change nothing.
 */
import { contentParts, contentOf, toMatchable, toOriginalSpans, type Matchable } from "../content.js";
import { redact } from "../lexicon/lexicon.js";
import type { CompiledRule } from "../policy/compile.js";
import type { Stage, StageInput, Verdict } from "../stage.js";

interface Part {
  path: string;
  /** The text as written (or as an earlier redaction left it). */
  text: string;
  m: Matchable;
}

const part = (path: string, text: string): Part => ({ path, text, m: toMatchable(text) });

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
    evaluate({ envelope, now }: StageInput): Verdict[] {
      const out: Verdict[] = [];
      // Matching runs on the matchable form (src/pipeline/matchable.ts); a part no rule touches is delivered as written.
      let parts: Part[] = contentParts(envelope).map((p) => part(p.path, p.text));
      // One test per rule on all parts joined by a blank line, however many parts a stanza is cut into:
      // a match that spans two parts still counts (a block errs on the side of blocking).
      let joined = parts.map((p) => p.m.text).join("\n\n");
      for (const rule of mine) {
        if (!rule.applies(envelope, now)) continue;
        if (rule.content && !rule.content.test(joined)) continue;
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
            if (!rule.redacts) break;
            const { changes, count } = redactParts(parts, rule, t.replacement);
            if (count === 0) break;
            const body = contentOf(envelope) === undefined ? undefined : changes[envelope.kind === "presence" ? "status" : "body"];
            out.push({ ...base, action: "redact", parts: changes, count, ...(body !== undefined ? { body } : {}) });
            if (!rule.shadow) {
              parts = parts.map((p) => (changes[p.path] !== undefined ? part(p.path, changes[p.path]!) : p));
              joined = parts.map((p) => p.m.text).join("\n\n");
            }
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
