import { z } from "zod";

export const certificateEntry = z
  .object({
    cert: z.string(),
    key: z.string(),
  })
  .strict();

export const tlsSection = z
  .object({
    /** Where generated certificates are written and installed ones looked for. */
    dir: z.string().default("certs"),
    /** Installed certificates; when empty, a self-signed one is made on first start. */
    certificates: z.array(certificateEntry).default([]),
    min_version: z.enum(["TLSv1.2", "TLSv1.3"]).default("TLSv1.2"),
    trust: z
      .object({
        system: z.boolean().default(true),
        ca_files: z.array(z.string()).default([]),
      })
      .strict()
      .prefault({}),
  })
  .strict();
