import { z } from "zod";
import { ROLES } from "../../officers/roles.js";

/** The review console on the admin server (admin.console) and the API token's account (admin.token_account). */
export const consoleSection = z
  .object({
    enabled: z.boolean().default(true),
    /** A session ends after this long without a request. */
    idle_minutes: z.number().int().min(1).max(24 * 60).default(30),
    /** And after this long whatever happens. */
    max_hours: z.number().int().min(1).max(7 * 24).default(12),
    /** Consecutive failed logins that lock an account, and for how long. */
    lock_after: z.number().int().min(1).max(100).default(5),
    lock_minutes: z.number().int().min(1).max(24 * 60).default(15),
    /** A quarantine release or reject takes a second officer's confirmation. */
    four_eyes: z.boolean().default(false),
  })
  .strict();

export const tokenAccountSection = z
  .object({
    /** The name the audit trail records for requests made with admin.token. */
    name: z.string().regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, "a name of a-z, 0-9, '.', '_', '-'").default("automation"),
    role: z.enum(ROLES).default("officer"),
  })
  .strict();
