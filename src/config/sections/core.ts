import { z } from "zod";
import { PrecisError, usernameCaseMapped } from "../../model/precis.js";

/**
 * A member's localpart must be one an account can have (RFC 7622 PRECIS):
 * "ﬀ@corp.test" could never match anyone, so it is refused here rather than
 * silently ignored. "*@domain" names everyone at the domain.
 */
function memberProblem(member: string, ctx: z.RefinementCtx): void {
  const at = member.lastIndexOf("@");
  const local = at >= 0 ? member.slice(0, at) : "";
  if (at < 0 || local === "*") return;
  try {
    usernameCaseMapped(local, "the localpart");
  } catch (err) {
    if (!(err instanceof PrecisError)) throw err;
    ctx.addIssue({ code: "custom", message: `${member}: ${err.message}` });
  }
}

/** The internal presence core (src/core). */
export const coreSection = z
  .object({
    /** Max contacts per user's roster (the design guide's default). */
    max_contacts: z.number().int().min(1).max(100_000).default(200),
    /** Max users watching one user's presence. */
    max_watchers: z.number().int().min(1).max(100_000).default(200),
    /** Messages kept for a user who is offline; beyond this, senders get service-unavailable (RFC 6121 8.5.2.1.1). */
    max_offline: z.number().int().min(0).max(1_000_000).default(1_000),
    /**
     * Groups: members are bare JIDs or "*@domain". Part of the one group
     * directory with account groups (demarc users add --group) and the
     * groups of policy files; walls, rules and watch rules read them all.
     */
    groups: z
      .record(
        z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, "group names are letters, digits, _ . - (at most 64)"),
        z.object({ members: z.array(z.string().min(1).superRefine(memberProblem)).default([]) }).strict(),
      )
      .default({}),
    /**
     * How often groups set on accounts (users add --group, CSV import) are
     * re-read into the group directory, in seconds; 0 = only at start and SIGHUP.
     */
    groups_refresh_s: z.number().int().min(0).max(86_400).default(30),
    /** Who may watch whom, between groups ("*" = anyone); first match wins. */
    watch_rules: z
      .array(
        z
          .object({
            watcher: z.string().min(1),
            watched: z.string().min(1),
            allow: z.boolean(),
          })
          .strict(),
      )
      .default([]),
    /** When no rule matches. */
    default_watch: z.enum(["allow", "deny"]).default("allow"),
  })
  .strict();

export type CoreConfig = z.infer<typeof coreSection>;
