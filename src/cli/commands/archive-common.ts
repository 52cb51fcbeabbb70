/**
 * What every `demarc archive` subcommand shares: a session on the archive
 * for the length of one command, line output and the --limit check.
 */
import type { Command } from "commander";
import { UsageError } from "../../errors.js";
import { openSession, type Session } from "../../archive/session.js";

export const out = (s: string) => process.stdout.write(`${s}\n`);

/** Runs fn on a session opened from the config and closes it after, whatever happens. */
export type Run = <T>(actor: string | undefined, fn: (s: Session) => Promise<T>) => Promise<T>;

export function sessionRunner(program: Command): Run {
  return async (actor, fn) => {
    const s = await openSession(program.opts<{ config?: string }>().config, actor);
    try {
      return await fn(s);
    } finally {
      await s.close();
    }
  };
}

export function limitOf(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 1_000_000) throw new UsageError("--limit must be a whole number from 1 to 1000000");
  return n;
}
