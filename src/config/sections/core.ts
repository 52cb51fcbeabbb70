import { z } from "zod";

/** The internal presence core (src/core). */
export const coreSection = z
  .object({
    /** Max contacts per user's roster (the design guide's default). */
    max_contacts: z.number().int().min(1).max(100_000).default(200),
    /** Max users watching one user's presence. */
    max_watchers: z.number().int().min(1).max(100_000).default(200),
  })
  .strict();
