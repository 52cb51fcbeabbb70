import { z } from "zod";
import { listener } from "./general.js";

/** Internal XMPP clients (src/access). */
export const c2sSection = z
  .object({
    starttls: listener(5222).prefault({}),
    direct_tls: listener(5223).prefault({}),
    /** Refuse authentication before TLS on the STARTTLS port (RFC 6120 5.3.1 "required"). */
    require_tls: z.boolean().default(true),
    /** RFC 6120 13.12: the largest stanza a client may send. */
    max_stanza_bytes: z.number().int().min(10_000).max(16 * 1024 * 1024).default(256 * 1024),
    /** PBKDF2 iterations for new SCRAM credentials (RFC 7677 asks for at least 4096). */
    scram_iterations: z.number().int().min(4096).max(1_000_000).default(4096),
    /** Shortest password `users add`, `users passwd` and `users import` accept, in characters. */
    min_password_length: z.number().int().min(1).max(1024).default(12),
    /** Failed SASL attempts on one stream before it is closed (RFC 6120 6.4.5). */
    max_auth_attempts: z.number().int().min(1).max(10).default(3),
    /** XEP-0198: how long a dropped session waits to be resumed. */
    resume_timeout_s: z.number().int().min(0).max(3600).default(300),
    /** Open client streams from one IP address; more are refused with policy-violation (as s2s does). */
    max_streams_per_ip: z.number().int().min(1).max(10_000).default(32),
    /**
     * Output sent to a client but not yet taken by it (beyond what the
     * kernel's socket buffers hold), in kB: a stream still above it
     * behind_grace_s after it went above, or above 16 times it, is closed
     * with resource-constraint. A client that stops reading while messages
     * keep coming would otherwise hold them in the gateway's memory without
     * bound. A XEP-0198 session keeps what it had not acknowledged, for
     * resumption or offline delivery.
     */
    max_unsent_kb: z.number().int().min(64).max(1_048_576).default(8_192),
    /**
     * XEP-0198: stanzas sent to a client it has not acknowledged; a stream
     * still above it behind_grace_s after it went above is closed with
     * resource-constraint, and a session above 4 times it ends at once.
     */
    max_unacked: z.number().int().min(100).max(1_000_000).default(10_000),
    /** How long a client may stay above max_unsent_kb or max_unacked (a burst it is still taking) before its stream is closed. */
    behind_grace_s: z.number().min(0.1).max(600).default(10),
    /** Streams that have not authenticated within this time are closed. */
    auth_timeout_s: z.number().int().min(1).max(600).default(30),
  })
  .strict();
