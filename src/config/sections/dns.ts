import { z } from "zod";

/** Name resolution for outbound federation (src/edge/dns), and what `demarc dns records` publishes. */
export const dnsSection = z
  .object({
    /** Resolver addresses (IP or IP:PORT); empty means the system's. */
    servers: z.array(z.string()).default([]),
    timeout_ms: z.number().int().min(100).max(30_000).default(3_000),
    /** Upper bound on how long answers are cached, whatever their TTL. */
    max_cache_s: z.number().int().min(0).max(86_400).default(3_600),
    publish: z
      .object({
        /** The public host name SRV records point at; default "edge.<first domain>". */
        host: z.string().optional(),
        /** Public addresses of that host (A / AAAA records). */
        ipv4: z.array(z.ipv4()).default([]),
        ipv6: z.array(z.ipv6()).default([]),
        ttl: z.number().int().min(60).max(604_800).default(3_600),
        /** Public ports when NAT changes them; default the listener ports. */
        ports: z
          .object({
            s2s: z.number().int().min(1).max(65535).optional(),
            s2s_direct_tls: z.number().int().min(1).max(65535).optional(),
            c2s: z.number().int().min(1).max(65535).optional(),
            c2s_direct_tls: z.number().int().min(1).max(65535).optional(),
            sip_tls: z.number().int().min(1).max(65535).optional(),
          })
          .strict()
          .prefault({}),
      })
      .strict()
      .prefault({}),
  })
  .strict();
