/**
 * What the archive keeps of an envelope's parts beyond the body, subject and
 * thread columns (src/model/content.ts): one JSON text per record, covered by
 * the hash chain. `received` is what crossed the edge, `delivered` what
 * compliance decided to deliver when it differs (a redacted nickname, an
 * XHTML body rendered again, extensions stripped), so the record shows what
 * was decided and a release delivers exactly that.
 */
import type { Envelope } from "../model/envelope.js";

const FIELDS = ["xhtml", "links", "files", "invites", "nick", "replaces", "signals", "extensions", "payload", "error"] as const;

export type ContentFields = Partial<Pick<Envelope, (typeof FIELDS)[number] | "subject" | "thread">> & { status?: string | undefined };

export interface ArchivedContent {
  received: ContentFields;
  delivered?: ContentFields | undefined;
}

function fields(e: Envelope, withHeaders: boolean): ContentFields {
  const out: Record<string, unknown> = {};
  if (withHeaders && e.subject !== undefined) out.subject = e.subject;
  if (withHeaders && e.thread !== undefined) out.thread = e.thread;
  if (e.presence?.note !== undefined) out.status = e.presence.note;
  for (const k of FIELDS) if (e[k] !== undefined) out[k] = e[k];
  return out as ContentFields;
}

/** The JSON text for the record's content column; null when the envelope has nothing beyond the columns. */
export function archivedContent(original: Envelope, decided: Envelope, deliverable: boolean): string | null {
  const received = fields(original, false);
  // The pipeline hands back the same envelope when compliance changed nothing: nothing to compare then.
  const asDecided = decided === original ? undefined : fields(decided, true);
  const delivered = deliverable && asDecided && JSON.stringify(asDecided) !== JSON.stringify(fields(original, true)) ? asDecided : undefined;
  if (!Object.keys(received).length && !delivered) return null;
  return JSON.stringify(delivered ? { received, delivered } : { received });
}

export function parseArchivedContent(text: string | null | undefined): ArchivedContent | undefined {
  if (!text) return undefined;
  try {
    const v = JSON.parse(text) as ArchivedContent;
    return v && typeof v === "object" && v.received && typeof v.received === "object" ? v : undefined;
  } catch {
    return undefined;
  }
}

/** An envelope's content fields restored from the column (status goes back to the presence note). */
export function restoreContent(env: Envelope, c: ContentFields | undefined): Envelope {
  if (!c) return env;
  const { status, ...rest } = c;
  const out: Envelope = { ...env, ...rest };
  if (status !== undefined) out.presence = { state: env.presence?.state ?? "available", ...env.presence, note: status };
  return out;
}
