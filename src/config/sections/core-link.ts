import { z } from "zod";
import { listener } from "./general.js";

/**
 * Split mode, the inside (mode: core): demarc's core accepts the edge's
 * XEP-0114 component streams here, one per partner domain (src/access/component).
 */
export const coreLinkSection = z
  .object({
    /** Where edges connect. Reachable from the DMZ only. */
    listen: listener(5347).prefault({}),
    /** Direct TLS with the hosted domains' certificates (the edge checks the name); off only behind a TLS terminator. */
    tls: z.boolean().default(true),
    /** The XEP-0114 shared secret; write "${NAME}" to take it from the environment. Required in mode core. */
    secret: z.string().default(""),
    /** An edge must complete the handshake within this time. */
    handshake_timeout_ms: z.number().int().min(100).max(120_000).default(10_000),
    /** Largest stanza accepted from an edge, in bytes. */
    max_stanza_bytes: z.number().int().min(4_096).max(16_777_216).default(262_144),
  })
  .strict();

export type CoreLinkSettings = z.infer<typeof coreLinkSection>;
