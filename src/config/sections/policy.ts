import { z } from "zod";

export const policySection = z
  .object({
    /** Folder of policy YAML files, read in file-name order. */
    dir: z.string().default("policies"),
    /** Reload when a file in dir changes (SIGHUP always reloads). */
    watch: z.boolean().default(true),
  })
  .strict();
