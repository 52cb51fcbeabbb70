/**
 * The logging the libraries below the gateway need: structured fields, then a
 * message. The process's pino logger satisfies it; the core does not depend on pino.
 */
export interface LogFields {
  [key: string]: unknown;
}

export interface Log {
  debug(fields: LogFields, msg?: string): void;
  info(fields: LogFields, msg?: string): void;
  warn(fields: LogFields, msg?: string): void;
  error(fields: LogFields, msg?: string): void;
}
