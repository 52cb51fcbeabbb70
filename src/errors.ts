/**
 * Errors a user sees. Each carries a stable code and prints as one line; the
 * CLI turns them into an exit code instead of a stack trace.
 */
export class DemarcError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = "DemarcError";
  }
}

/** Config file problems: exit 78 (EX_CONFIG). */
export class ConfigError extends DemarcError {
  constructor(message: string) {
    super("E_CONFIG", message, 78);
  }
}

/** A needed service (database, port) is unavailable: exit 69 (EX_UNAVAILABLE). */
export class UnavailableError extends DemarcError {
  constructor(code: string, message: string) {
    super(code, message, 69);
  }
}

/** Wrong usage of a command: exit 64 (EX_USAGE). */
export class UsageError extends DemarcError {
  constructor(message: string) {
    super("E_USAGE", message, 64);
  }
}

export const EXIT = { ok: 0, failure: 1, notBuilt: 2, usage: 64, unavailable: 69, software: 70, config: 78 } as const;

/** One line for the user, whatever was thrown. */
export function oneLine(err: unknown): string {
  if (err instanceof Error) return err.message.split("\n")[0] ?? err.name;
  return String(err);
}
