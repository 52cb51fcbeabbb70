import { z } from "zod";
import { domainName } from "./domain.js";

/**
 * One internal XMPP server behind the edge (mode: edge). The edge holds one
 * XEP-0114 component stream on it per partner domain, so users there reach
 * partners and partners reach them with their own addresses.
 */
export const internalServer = z
  .object({
    /** Hosted domains whose users live on this server; stanzas for them go here. */
    domains: z.array(domainName).min(1),
    /** The server's component listener (Prosody component_ports, ejabberd ejabberd_service). */
    host: z.string().min(1).default("127.0.0.1"),
    port: z.number().int().min(1).max(65_535).default(5347),
    /**
     * The XEP-0114 shared secret. Write it as "${NAME}" so it comes from the
     * environment variable NAME; `demarc edge internal-config` references that name.
     */
    secret: z.string().min(1),
    /** Direct TLS on the component connection (the internal server's certificate is checked against tls.trust). */
    tls: z.boolean().default(false),
    /** Name the internal server's certificate must carry when tls is on; default: host. */
    tls_name: z.string().optional(),
  })
  .strict();

/** Split mode, the edge side: how it reaches the internal servers (src/edge/component). */
export const edgeSection = z
  .object({
    internal: z.array(internalServer).default([]),
    /** A component connection (TCP, TLS, handshake) must come up within this time. */
    connect_timeout_ms: z.number().int().min(100).max(120_000).default(10_000),
    /** First reconnect delay after a component stream is lost; doubled on each failure up to reconnect_max_ms. */
    reconnect_initial_ms: z.number().int().min(10).max(600_000).default(500),
    reconnect_max_ms: z.number().int().min(10).max(3_600_000).default(30_000),
    /**
     * How long a partner's stanza may wait for a component stream that is
     * (re)connecting before it bounces with remote-server-timeout.
     */
    deliver_wait_ms: z.number().int().min(0).max(60_000).default(2_000),
    /** Stanzas waiting for a component stream, or unsent on its socket, per link; beyond this they bounce (resource-constraint). */
    queue_max: z.number().int().min(1).max(1_000_000).default(1_000),
    /** Largest stanza accepted from an internal server, in bytes. */
    max_stanza_bytes: z.number().int().min(4_096).max(16_777_216).default(262_144),
  })
  .strict();

export type InternalServer = z.infer<typeof internalServer>;
export type EdgeSettings = z.infer<typeof edgeSection>;
