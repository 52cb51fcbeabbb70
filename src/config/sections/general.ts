import { z } from "zod";
import { consoleSection, tokenAccountSection } from "./console.js";

/** Settings of the network listeners every edge shares. */
export const listener = (port: number, enabled = true) =>
  z
    .object({
      enabled: z.boolean().default(enabled),
      host: z.string().default("0.0.0.0"),
      port: z.number().int().min(0).max(65535).default(port),
    })
    .strict();

export const logSection = z
  .object({
    level: z.enum(["trace", "debug", "info", "warn", "error", "fatal", "silent"]).default("info"),
    /** auto: pretty in a terminal, JSON otherwise. */
    format: z.enum(["auto", "json", "pretty"]).default("auto"),
  })
  .strict();

export const adminSection = z
  .object({
    enabled: z.boolean().default(true),
    host: z.string().default("127.0.0.1"),
    port: z.number().int().min(0).max(65535).default(5280),
    /**
     * When set (e.g. "${DEMARC_ADMIN_TOKEN}"), every /api/ route needs
     * "Authorization: Bearer TOKEN"; health and metrics stay open for probes.
     */
    token: z.string().default(""),
    token_account: tokenAccountSection.prefault({}),
    console: consoleSection.prefault({}),
  })
  .strict();

export const shutdownSection = z
  .object({
    /** How long open streams get to drain before they are closed. */
    drain_ms: z.number().int().min(0).max(600_000).default(5_000),
  })
  .strict();
