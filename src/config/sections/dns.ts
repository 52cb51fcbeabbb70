import { z } from "zod";

/** Name resolution for outbound federation (src/edge/dns). */
export const dnsSection = z
  .object({
    /** Resolver addresses (IP or IP:PORT); empty means the system's. */
    servers: z.array(z.string()).default([]),
    timeout_ms: z.number().int().min(100).max(30_000).default(3_000),
  })
  .strict();
