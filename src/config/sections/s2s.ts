import { z } from "zod";
import { listener } from "./general.js";

/** XMPP server-to-server federation (src/edge/xmpp). Partners can override the limits marked so. */
export const s2sSection = z
  .object({
    /** RFC 6120 STARTTLS on 5269. */
    starttls: listener(5269).prefault({}),
    /** XEP-0368 direct TLS on 5270. */
    direct_tls: listener(5270).prefault({}),
    /** Refuse streams that do not negotiate TLS (RFC 6120 section 5.3.1: TLS is mandatory-to-negotiate here). */
    require_tls: z.boolean().default(true),
    /** Largest stanza accepted, in bytes (RFC 6120 section 13.12). Per partner: max_stanza_bytes. */
    max_stanza_bytes: z.number().int().min(4_096).max(16_777_216).default(262_144),
    /** Stanzas per second accepted from one partner domain (token bucket; reading pauses when empty). Per partner: rate. */
    rate: z.number().min(1).max(1_000_000).default(200),
    /** Burst size of that bucket. */
    burst: z.number().int().min(1).max(1_000_000).default(1_000),
    /** Concurrent inbound streams from one IP address. */
    max_streams_per_ip: z.number().int().min(1).max(10_000).default(32),
    /** A stream must authenticate a domain within this time or is closed (connection-timeout). */
    auth_timeout_ms: z.number().int().min(100).max(600_000).default(15_000),
    /** An outbound stream with no traffic for this long is closed. */
    idle_timeout_ms: z.number().int().min(1_000).max(86_400_000).default(300_000),
    /** How long an outbound connection (TCP + TLS + authentication) may take per target. */
    connect_timeout_ms: z.number().int().min(100).max(120_000).default(10_000),
    /** Stanzas queued per partner while its stream is set up; beyond this they bounce (resource-constraint). */
    queue_max: z.number().int().min(1).max(1_000_000).default(10_000),
    /**
     * Secret for dialback keys (XEP-0185). Every node of a cluster needs the
     * same one; when empty a random one is made at start, which suits a single node.
     */
    dialback_secret: z.string().default(""),
  })
  .strict();
