import { z } from "zod";
import { domainName } from "./domain.js";

/** A partner domain and what it may do. Per-partner settings fall back to global ones. */
export const partnerEntry = z
  .object({
    domain: domainName,
    /** How presence is rendered for this partner (src/mapping state map). */
    profile: z.enum(["xmpp-rich", "xmpp-basic", "lync", "aol"]).default("xmpp-rich"),
    protocol: z.enum(["xmpp", "sip"]).default("xmpp"),
    /** Authentication methods accepted from this partner, in order of preference. */
    auth: z.array(z.enum(["certificate", "dialback"])).default(["certificate", "dialback"]),
    /** Certificates pinned for this partner (SHA-256 fingerprints). */
    pinned: z.array(z.string()).default([]),
    /** Overrides s2s.rate for this partner (stanzas per second). */
    rate: z.number().min(1).max(1_000_000).optional(),
    /** Overrides s2s.burst for this partner. */
    burst: z.number().int().min(1).max(1_000_000).optional(),
    /** Overrides s2s.max_stanza_bytes for this partner. */
    max_stanza_bytes: z.number().int().min(4_096).max(16_777_216).optional(),
  })
  .strict();

export const federationSection = z
  .object({
    /** allow-listed: only listed partners; open: anyone not denied. */
    mode: z.enum(["allow-listed", "open"]).default("open"),
    /** A denied domain is refused with all its subdomains, over every protocol. */
    deny: z.array(domainName).default([]),
  })
  .strict();
