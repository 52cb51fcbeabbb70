import { z } from "zod";

export const archiveSection = z
  .object({
    /**
     * sqlite:PATH (relative to data_dir) or postgres://... The secret part can
     * come from the environment: DEMARC_ARCHIVE_URL overrides this value.
     */
    url: z.string().default("sqlite:archive.db"),
    /** Seconds to wait for the database at start. */
    connect_timeout_s: z.number().min(1).max(300).default(10),
  })
  .strict();
