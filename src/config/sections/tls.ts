import { z } from "zod";

export const certificateEntry = z
  .object({
    cert: z.string(),
    key: z.string(),
  })
  .strict();

/** Names hosted under a domain: labels ("conference") or full names ("chat.corp.example"). */
const hostedUnder = z
  .object({
    /** XMPP services federated over s2s (MUC, pubsub): in certificates, XmppAddr/SRVName and SRV records. */
    services: z.array(z.string().min(1)).optional(),
    /** Other host names under the domain (HTTP upload, web): DNS names in certificates only. */
    subdomains: z.array(z.string().min(1)).optional(),
  })
  .strict();

export const tlsSection = z
  .object({
    /** Where generated certificates are written and installed ones looked for. */
    dir: z.string().default("certs"),
    /** Installed certificates; when empty, a self-signed one is made on first start. */
    certificates: z.array(certificateEntry).default([]),
    min_version: z.enum(["TLSv1.2", "TLSv1.3"]).default("TLSv1.2"),
    /** Service subdomains hosted under every domain, e.g. ["conference"]. */
    services: z.array(z.string().min(1)).default([]),
    /** Other subdomains hosted under every domain. */
    subdomains: z.array(z.string().min(1)).default([]),
    /** Per-domain lists; each list given here replaces the global one for that domain. */
    per_domain: z.record(z.string(), hostedUnder).default({}),
    /** Days before expiry at which `certs status` and startup warn. */
    warn_days: z.number().int().min(1).max(365).default(30),
    /** Where `demarc certs ca` keeps the local CA (relative to the config file). */
    ca_dir: z.string().default("certs/ca"),
    trust: z
      .object({
        system: z.boolean().default(true),
        ca_files: z.array(z.string()).default([]),
      })
      .strict()
      .prefault({}),
  })
  .strict();
