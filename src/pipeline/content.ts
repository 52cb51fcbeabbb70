/**
 * The user-written text of an envelope that content rules scan and redact:
 * the body of a message, or the note of a presence (a status line crosses the
 * edge as surely as a message does).
 */
import type { Envelope } from "../model/envelope.js";

export function contentOf(env: Envelope): string | undefined {
  return env.kind === "presence" ? env.presence?.note : env.body;
}

export function withContent(env: Envelope, text: string): Envelope {
  if (env.kind === "presence") return env.presence ? { ...env, presence: { ...env.presence, note: text } } : env;
  return { ...env, body: text };
}
