/**
 * Plain-language descriptions of policy definitions, for compliance officers
 * reading `demarc policy explain` and `demarc policy test`.
 */
import type { PolicySet } from "./policy/compile.js";
import type { ThenDef, WhenDef } from "./policy/schema.js";

const list = (xs: string[], joiner = "or") => (xs.length <= 1 ? (xs[0] ?? "") : `${xs.slice(0, -1).join(", ")} ${joiner} ${xs[xs.length - 1]}`);
const quoted = (xs: string[]) => xs.map((x) => `"${x}"`);

export function describeWhen(w: WhenDef): string[] {
  const out: string[] = [];
  if (w.direction) out.push(`the message is ${list(w.direction)}`);
  if (w.kind) out.push(`it is a ${list(w.kind)}`);
  if (w.partners) out.push(`the partner domain matches ${list(w.partners)}`);
  if (w.from) out.push(`the sender is ${list(w.from)}`);
  if (w.to) out.push(`the recipient is ${list(w.to)}`);
  if (w.users) out.push(`the sender or recipient is ${list(w.users)}`);
  const content: string[] = [];
  if (w.words) content.push(`any of the words ${list(quoted(w.words))}`);
  if (w.body) content.push(`text matching ${list(w.body.map((b) => `/${b}/`))}`);
  if (w.lexicons) content.push(`anything in the lexicon${w.lexicons.length > 1 ? "s" : ""} ${list(w.lexicons)}`);
  if (content.length) out.push(`the text contains ${content.join(", or ")}`);
  if (w.time) {
    const t = [w.time.days ? `on ${list(w.time.days)}` : "", w.time.hours ? `between ${w.time.hours}` : "", `(${w.time.zone ?? "UTC"})`];
    out.push(`it is sent ${t.filter(Boolean).join(" ")}`);
  }
  return out.length ? out : ["always (every message this stage sees)"];
}

export function describeThen(t: ThenDef): string {
  switch (t.action) {
    case "allow":
      return "ALLOW: let it through and skip the remaining rules (other stages still run)";
    case "block":
      return `BLOCK: do not deliver; the sender is told ${t.reason ? `"${t.reason}"` : "it was blocked by compliance policy"}`;
    case "quarantine":
      return "QUARANTINE: hold it for review by a security analyst; it is not delivered unless released";
    case "redact":
      return `REDACT: replace what matched${t.patterns || t.lexicons ? " (and " + list([...(t.patterns ?? []).map((p) => `/${p}/`), ...(t.lexicons ?? [])], "and") + ")" : ""} with "${t.replacement}"`;
    case "tag":
      return `TAG: label it ${list(t.tags, "and")} in the archive`;
    case "disclaimer":
      return `DISCLAIMER: ${t.position} "${t.text}"`;
    case "copy":
      return `COPY: send a copy to ${t.to}`;
  }
}

/** Everything known about one id, as lines of text; undefined when no definition has it. */
export function explain(set: PolicySet, id: string): string[] | undefined {
  const mode = (shadow: boolean, enabled: boolean) => (!enabled ? "DISABLED (not evaluated)" : shadow ? "SHADOW: recorded in the archive, not enforced" : "ENFORCED");
  const found = set.ruleDefs.find((r) => r.def.id === id);
  if (found) {
    const rule = found.def;
    return [
      `Rule ${id}  (${found.origin.file}, line ${found.origin.line})`,
      ...(rule.description ? [`  ${rule.description.trim()}`] : []),
      "  Fires when all of these hold:",
      ...describeWhen(rule.when).map((l) => `    - ${l}`),
      `  Then: ${describeThen(rule.then)}`,
      `  Mode: ${mode(rule.shadow, rule.enabled)}`,
      `  Stage: rules (runs wherever a profile lists "rules")`,
    ];
  }
  const wall = set.walls.find((w) => w.def.id === id);
  if (wall) {
    const d = wall.def;
    return [
      `Ethical wall ${id}  (${wall.origin.file}, line ${wall.origin.line})`,
      ...(d.description ? [`  ${d.description.trim()}`] : []),
      `  ${list(d.from)} may not reach ${list(d.to)}${d.both_ways ? ", and the other way round" : " (one way only: the other direction is allowed)"}`,
      `  Applies to: ${d.kinds ? list(d.kinds) : "everything (messages, presence, subscriptions, group chat, file transfer)"}`,
      `  Mode: ${mode(d.shadow, d.enabled)}`,
    ];
  }
  const limit = set.limits.find((l) => l.def.id === id);
  if (limit) {
    const d = limit.def;
    return [
      `Limit ${id}  (${limit.origin.file}, line ${limit.origin.line})`,
      ...(d.description ? [`  ${d.description.trim()}`] : []),
      ...(d.max_messages ? [`  At most ${d.max_messages} messages in any ${d.window_s} s (sliding window) for each ${d.per === "partner" ? "partner domain" : "sender"}`] : []),
      ...(d.max_body_bytes ? [`  Messages larger than ${d.max_body_bytes} bytes are refused`] : []),
      `  Mode: ${mode(d.shadow, d.enabled)}`,
    ];
  }
  const ext = set.externals.find((x) => x.def.id === id);
  if (ext) {
    const d = ext.def;
    return [
      `External compliance server ${id}  (${ext.origin.file}, line ${ext.origin.line})`,
      ...(d.description ? [`  ${d.description.trim()}`] : []),
      `  Asks ${d.url}, waiting at most ${d.timeout_ms} ms`,
      `  When it cannot answer: ${d.on_unreachable === "fail-open" ? "deliver anyway (fail-open)" : "block the message (fail-closed)"}`,
      `  Mode: ${mode(d.shadow, d.enabled)}`,
    ];
  }
  const lex = set.lexicons.get(id);
  if (lex) {
    const d = lex.def;
    return [
      `Lexicon ${id}  (${lex.origin.file}, line ${lex.origin.line})`,
      ...(d.description ? [`  ${d.description.trim()}`] : []),
      `  Detects: ${list([...(d.detect ?? []), ...(d.words ? [`${d.words.length} words`] : []), ...(d.patterns ? [`${d.patterns.length} patterns`] : [])], "and")}`,
      `  On its own: ${d.on_match ? describeThen(d.on_match) : "nothing (used by rules that name it)"}`,
      ...(d.on_match ? [`  Mode: ${mode(d.on_match.shadow, d.enabled)}`] : []),
    ];
  }
  const profile = set.profiles.find((p) => p.def.id === id);
  if (profile) {
    const d = profile.def;
    return [
      `Profile ${id}  (${profile.origin.file}, line ${profile.origin.line}), priority ${d.priority}`,
      ...(d.description ? [`  ${d.description.trim()}`] : []),
      `  For: ${d.kinds ? list(d.kinds) : "every kind"}${d.direction ? `, ${list(d.direction)}` : ""}${d.partners ? `, partners ${list(d.partners)}` : ""}`,
      `  Stages, in order: ${d.stages.length ? d.stages.join(" -> ") : "none (not checked)"}`,
    ];
  }
  return undefined;
}
