/**
 * Wraps every command so a user sees `demarc: E_CODE: message` and an exit
 * code, never a stack trace. DEMARC_DEBUG=1 shows the stack for bugs.
 */
import { DemarcError, EXIT, oneLine } from "../errors.js";

export function action<A extends unknown[]>(fn: (...args: A) => Promise<number | void>) {
  return async (...args: A): Promise<void> => {
    try {
      const code = await fn(...args);
      process.exitCode = code ?? EXIT.ok;
    } catch (err) {
      process.exitCode = fail(err);
    }
  };
}

/** The lines a user sees for an error: one per problem, each with the code. */
export function errorLines(err: unknown): string[] {
  if (err instanceof DemarcError) return err.problems.map((p) => `demarc: ${err.code}: ${p}`);
  return [`demarc: E_INTERNAL: ${oneLine(err)}`];
}

export function fail(err: unknown): number {
  for (const line of errorLines(err)) process.stderr.write(`${line}\n`);
  if (err instanceof DemarcError) return err.exitCode;
  if (process.env.DEMARC_DEBUG) process.stderr.write(`${(err as Error)?.stack ?? ""}\n`);
  return EXIT.software;
}
