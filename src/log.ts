/**
 * One pino logger for the process: pretty in a terminal, JSON otherwise.
 * Never log raw stanzas or SIP messages (they hold bodies pino cannot redact);
 * log ids, addresses and sizes.
 */
import { pino, type Logger } from "pino";

export type { Logger };

export interface LogOptions {
  level: string;
  format: "auto" | "json" | "pretty";
}

export function createLogger(opts: LogOptions): Logger {
  const pretty = opts.format === "pretty" || (opts.format === "auto" && process.stdout.isTTY === true);
  return pino({
    level: opts.level,
    base: { svc: "demarc" },
    redact: { paths: ["password", "*.password", "body", "*.body", "archive.url"], censor: "[redacted]" },
    ...(pretty
      ? { transport: { target: "pino-pretty", options: { colorize: true, translateTime: "SYS:HH:MM:ss.l", ignore: "pid,hostname,svc" } } }
      : {}),
  });
}
