import { z } from "zod";

export const policySection = z
  .object({
    /** Folder of policy YAML files, read in file-name order. Missing: run with an empty policy. */
    dir: z.string().default("policies"),
    /** Reload when a file in dir changes (SIGHUP always reloads). */
    watch: z.boolean().default(true),
    /** Wait this long after the last change before reloading, so a multi-file copy loads as one. */
    watch_debounce_ms: z.number().int().min(10).max(60_000).default(300),
    /**
     * Plug-in stages: ES modules (paths relative to the config file) whose default
     * export is a Stage or a function returning one; profiles list them by name.
     */
    plugins: z.array(z.string().min(1)).default([]),
    /** Senders and partners whose rate-limit state is kept; the least recent are forgotten first. */
    limit_keys: z.number().int().min(100).max(10_000_000).default(100_000),
  })
  .strict();
