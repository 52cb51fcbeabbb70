import { z } from "zod";

/** A partner domain and what it may do. Per-partner settings fall back to global ones. */
export const partnerEntry = z
  .object({
    domain: z.string().min(1),
    /** How presence is rendered for this partner (src/mapping state map). */
    profile: z.enum(["xmpp-rich", "xmpp-basic", "lync", "aol"]).default("xmpp-rich"),
    protocol: z.enum(["xmpp", "sip"]).default("xmpp"),
    /** Authentication methods accepted from this partner, in order of preference. */
    auth: z.array(z.enum(["certificate", "dialback"])).default(["certificate", "dialback"]),
    /** Certificates pinned for this partner (SHA-256 fingerprints). */
    pinned: z.array(z.string()).default([]),
  })
  .strict();

export const federationSection = z
  .object({
    /** allow-listed: only listed partners; open: anyone not denied. */
    mode: z.enum(["allow-listed", "open"]).default("open"),
    deny: z.array(z.string()).default([]),
  })
  .strict();
