import { z } from "zod";
import { listener } from "./general.js";

/** SIP/SIMPLE federation (src/edge/sip). */
export const sipSection = z
  .object({
    tls: listener(5061, false).prefault({}),
    tcp: listener(5060, false).prefault({}),
    udp: listener(5060, false).prefault({}),
    /**
     * Accept federation requests over plain TCP/UDP. Off by default: without
     * mutual TLS the From domain is unauthenticated (RFC 5922 section 1).
     */
    trust_plain_transports: z.boolean().default(false),
    /** SRV services tried in order to reach a SIP partner, then A/AAAA on 5061 over TLS. */
    discovery: z.array(z.string().regex(/^_[a-z0-9-]+\._(tcp|udp)$/)).default(["_sipfederationtls._tcp", "_sips._tcp", "_sip._tcp", "_sip._udp"]),
    limits: z
      .object({
        max_header_bytes: z.number().int().min(1024).max(1_048_576).default(16_384),
        max_body_bytes: z.number().int().min(1024).max(10_485_760).default(65_536),
        /** Close a connection with no traffic for this long. */
        idle_ms: z.number().int().min(1_000).max(3_600_000).default(300_000),
        /** Close a connection that started a message and did not finish it within this time. */
        stall_ms: z.number().int().min(100).max(120_000).default(10_000),
        max_connections_per_address: z.number().int().min(1).max(10_000).default(64),
        requests_per_second: z.number().min(1).max(1_000_000).default(200),
        burst: z.number().int().min(1).max(1_000_000).default(400),
        connect_timeout_ms: z.number().int().min(100).max(60_000).default(5_000),
      })
      .strict()
      .prefault({}),
    /** RFC 3261 timers: T1 (RTT estimate) and T2 (maximum retransmit interval). */
    timers: z
      .object({
        t1_ms: z.number().int().min(10).max(10_000).default(500),
        t2_ms: z.number().int().min(100).max(60_000).default(4_000),
      })
      .strict()
      .prefault({}),
    subscriptions: z
      .object({
        default_expires_s: z.number().int().min(60).max(86_400).default(3_600),
        min_expires_s: z.number().int().min(1).max(3_600).default(60),
        max_expires_s: z.number().int().min(60).max(604_800).default(86_400),
      })
      .strict()
      .prefault({}),
    /** Event state publication (RFC 3903) of partners' users' presence. */
    publications: z
      .object({
        default_expires_s: z.number().int().min(60).max(86_400).default(3_600),
        min_expires_s: z.number().int().min(1).max(3_600).default(60),
        max_expires_s: z.number().int().min(60).max(604_800).default(86_400),
        max_total: z.number().int().min(1).max(10_000_000).default(100_000),
        max_per_presentity: z.number().int().min(1).max(1_000).default(16),
      })
      .strict()
      .prefault({}),
  })
  .strict();
