/**
 * Which envelopes the archive keeps, the one rule the archiver (what is
 * journaled) and the outcome recorder (whose delivery outcomes are logged)
 * both follow. Kinds outside archive.kinds (presence, by default) cross too
 * often to keep every one, but a verdict that changed what crossed - an
 * ethical wall hiding someone's presence, a redacted status note - is kept
 * whatever its kind, so every enforced verdict is on record.
 *
 * The kinds are read for each envelope from the live configuration: after a
 * reload (SIGHUP) that changes archive.kinds, the next envelope is kept or not
 * by the new list, for the record and its outcomes alike.
 */
import type { Decision } from "../model/route.js";

/** The archive.kinds in force now. */
export type KeptKinds = () => readonly string[];

export function intervened(decision: Decision): boolean {
  return !decision.deliver || decision.verdicts.some((v) => !v.shadow && v.action !== "allow");
}

export function archiveKeeps(kinds: readonly string[], kind: string, decision: Decision): boolean {
  return kinds.includes(kind) || intervened(decision);
}
