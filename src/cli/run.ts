/**
 * Wraps every command so a user sees one line and an exit code, never a stack
 * trace. DEMARC_DEBUG=1 shows the stack for bugs.
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

export function fail(err: unknown): number {
  if (err instanceof DemarcError) {
    process.stderr.write(`demarc: ${err.message}\n`);
    return err.exitCode;
  }
  process.stderr.write(`demarc: internal error: ${oneLine(err)}\n`);
  if (process.env.DEMARC_DEBUG) process.stderr.write(`${(err as Error)?.stack ?? ""}\n`);
  return EXIT.software;
}

/** A command whose part of demarc is not built yet says so and exits non-zero. */
export function notBuilt(what: string) {
  return async (): Promise<void> => {
    process.stderr.write(`demarc: ${what} is not built yet\n`);
    process.exitCode = EXIT.notBuilt;
  };
}
