/**
 * An external compliance server (the design guide's blocking third-party
 * compliance interface) over HTTP: the envelope goes out as JSON in a POST,
 * a verdict comes back as JSON. When the server is slow, down or answers
 * nonsense, the stage fails open (allow, recorded) or closed (block) as its
 * policy says; either way the verdict names the server and why.
 */
import { z } from "zod";
import { bareOf, type Envelope } from "../../model/envelope.js";
import type { Logger } from "../../log.js";
import { contentOf, contentParts } from "../content.js";
import type { ExternalDef } from "../policy/schema.js";
import type { Stage, Verdict } from "../stage.js";

/** What the server answers: one verdict, or a list under "verdicts". */
const verdictSchema = z.object({
  verdict: z.enum(["allow", "block", "quarantine", "redact", "tag", "disclaimer", "copy"]),
  reason: z.string().max(2000).optional(),
  rule_id: z.string().max(200).optional(),
  /** redact: the whole body as it should read. */
  body: z.string().optional(),
  tags: z.array(z.string().max(64)).optional(),
  text: z.string().max(2000).optional(),
  position: z.enum(["append", "prepend"]).optional(),
  to: z.string().optional(),
});
const responseSchema = z.union([verdictSchema, z.object({ verdicts: z.array(verdictSchema).max(50) })]);
type Answer = z.infer<typeof verdictSchema>;

export const UNAVAILABLE_TEXT = "The compliance check is unavailable; try again later.";

/**
/**
 * The JSON the server receives: the canonical envelope (typed content, no
 * wire text); flat, every human-readable part of it with its kind and path, so
 * a server that only knows "text" still sees all of it; and the groups of
 * sender and recipient from the group directory, so a server can apply the
 * same barriers the walls do.
 */
export function requestBody(env: Envelope, policyVersion: string, groupsOf?: (bare: string) => string[]): string {
  const groups = groupsOf ? { from: groupsOf(bareOf(env.from)), to: groupsOf(bareOf(env.to)) } : undefined;
  return JSON.stringify({ envelope: env, parts: contentParts(env), policy_version: policyVersion, ...(groups ? { groups } : {}) });
}

export interface ExternalDeps {
  log: Logger;
  policyVersion: string;
  /** Groups of a bare address, from the group directory. */
  groupsOf?: ((bare: string) => string[]) | undefined;
}

export function externalStage(def: ExternalDef, deps: ExternalDeps): Stage {
  let lastWarn = 0;
  const unreachable = (envelope: Envelope, why: string): Verdict[] => {
    const now = Date.now();
    if (now - lastWarn > 10_000) {
      lastWarn = now;
      deps.log.warn({ server: def.id, id: envelope.id, why, mode: def.on_unreachable }, "external compliance server unavailable");
    }
    const reason = `${def.id} unavailable (${why}): ${def.on_unreachable}`;
    if (def.on_unreachable === "fail-open") return [{ action: "allow", ruleId: def.id, shadow: def.shadow, reason }];
    return [{ action: "block", ruleId: def.id, shadow: def.shadow, reason, error: { condition: "internal-server-error", type: "wait", text: UNAVAILABLE_TEXT } }];
  };
  return {
    name: `external:${def.id}`,
    async evaluate({ envelope }): Promise<Verdict[]> {
      let res: Response;
      let raw: unknown;
      try {
        res = await fetch(def.url, {
          method: "POST",
          headers: { "content-type": "application/json", accept: "application/json", ...def.headers },
          body: requestBody(envelope, deps.policyVersion, deps.groupsOf),
          signal: AbortSignal.timeout(def.timeout_ms),
        });
        if (!res.ok) {
          await res.body?.cancel();
          return unreachable(envelope, `HTTP ${res.status}`);
        }
        raw = JSON.parse(await readCapped(res, def.max_response_bytes));
      } catch (err) {
        const e = err as Error;
        const why =
          e instanceof TooLarge ? e.message
          : e.name === "TimeoutError" ? `no answer within ${def.timeout_ms} ms`
          : e.name === "SyntaxError" ? "answer is not JSON"
          : connectionError(e);
        return unreachable(envelope, why);
      }
      const parsed = responseSchema.safeParse(raw);
      if (!parsed.success) return unreachable(envelope, "answer is not a verdict");
      const answers = "verdicts" in parsed.data ? parsed.data.verdicts : [parsed.data];
      return answers.flatMap((a) => toVerdict(a, def, envelope));
    },
  };
}

class TooLarge extends Error {}

/**
 * The answer's text, read no further than max bytes: res.json() would buffer
 * whatever the server sends (a runaway or hostile server could send
 * gigabytes), so the body is read chunk by chunk and abandoned past the cap.
 */
async function readCapped(res: Response, max: number): Promise<string> {
  const declared = Number(res.headers.get("content-length") ?? NaN);
  if (declared > max) {
    await res.body?.cancel();
    throw new TooLarge(`answer over ${max} bytes (max_response_bytes)`);
  }
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = res.body?.getReader();
  if (!reader) return "";
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > max) {
      await reader.cancel();
      throw new TooLarge(`answer over ${max} bytes (max_response_bytes)`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString("utf8");
}

function connectionError(e: Error): string {
  const code = (e.cause as NodeJS.ErrnoException | undefined)?.code;
  return code ? `connection failed: ${code}` : "connection failed";
}

function toVerdict(a: Answer, def: ExternalDef, env: Envelope): Verdict[] {
  const base = { ruleId: a.rule_id ? `${def.id}/${a.rule_id}` : def.id, shadow: def.shadow, reason: a.reason };
  switch (a.verdict) {
    case "allow":
    case "block":
    case "quarantine":
      return [{ ...base, action: a.verdict }];
    case "redact":
      return a.body !== undefined && a.body !== contentOf(env) ? [{ ...base, action: "redact", body: a.body, count: 1 }] : [];
    case "tag":
      return a.tags?.length ? [{ ...base, action: "tag", tags: a.tags }] : [];
    case "disclaimer":
      return a.text ? [{ ...base, action: "disclaimer", text: a.text, position: a.position ?? "append" }] : [];
    case "copy":
      return a.to && /^[^@\s/]+@[^@\s/]+$/.test(a.to) ? [{ ...base, action: "copy", to: a.to }] : [];
  }
}
