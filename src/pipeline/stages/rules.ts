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
import type { Envelope } from "../../model/envelope.js";
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

/**
 * The parts of one envelope in their matchable form, built only when a rule
 * that applies has a content condition (most traffic meets few of those).
 */
class Content {
  private list: Part[] | undefined;
  private text: string | undefined;

  constructor(private readonly envelope: Envelope) {}

  get parts(): Part[] {
    if (!this.list) {
      const found = contentParts(this.envelope);
      this.list = new Array<Part>(found.length);
      for (let i = 0; i < found.length; i++) this.list[i] = part(found[i]!.path, found[i]!.text);
    }
    return this.list;
  }

  /**
   * One test per rule on all parts joined by a blank line, however many parts a stanza is cut into:
   * a match that spans two parts still counts (a block errs on the side of blocking).
   */
  get joined(): string {
    if (this.text === undefined) {
      const parts = this.parts;
      this.text = parts.length === 1 ? parts[0]!.m.text : parts.map((p) => p.m.text).join("\n\n");
    }
    return this.text;
  }

  /** Later rules see what an enforced redaction left. */
  redacted(changes: Record<string, string>): void {
    this.list = this.parts.map((p) => (changes[p.path] !== undefined ? part(p.path, changes[p.path]!) : p));
    this.text = undefined;
  }
}

export function rulesStage(name: "rules" | "lexicons", rules: CompiledRule[]): Stage {
  const mine = rules.filter((r) => r.stage === name);
  return {
    name,
    evaluate({ envelope, now }: StageInput): Verdict[] {
      const out: Verdict[] = [];
      // Matching runs on the matchable form (src/pipeline/matchable.ts); a part no rule touches is delivered as written.
      const content = new Content(envelope);
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
            if (!rule.shadow) content.redacted(changes);
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
