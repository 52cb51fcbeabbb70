import { z } from "zod";
import { listener } from "./core.js";

export const s2sSection = z
  .object({
    starttls: listener(5269).prefault({}),
    direct_tls: listener(5270).prefault({}),
  })
  .strict();

export const c2sSection = z
  .object({
    starttls: listener(5222).prefault({}),
    direct_tls: listener(5223).prefault({}),
  })
  .strict();

export const sipSection = z
  .object({
    tls: listener(5061, false).prefault({}),
    tcp: listener(5060, false).prefault({}),
    udp: listener(5060, false).prefault({}),
  })
  .strict();

export const dnsSection = z
  .object({
    /** Resolver addresses (IP or IP:PORT); empty means the system's. */
    servers: z.array(z.string()).default([]),
    timeout_ms: z.number().int().min(100).max(30_000).default(3_000),
  })
  .strict();
