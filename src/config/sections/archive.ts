import { z } from "zod";

/** A retention rule: records matching it are kept `days`; the first matching rule wins. */
export const retentionRule = z
  .object({
    name: z.string().min(1),
    /** Days to keep; 0 keeps forever. */
    days: z.number().int().min(0).max(36_500),
    /** Partner domains the rule covers (either side of the record). */
    partners: z.array(z.string().min(1)).default([]),
    /** A group of users: bare addresses, or "@domain" for a whole hosted domain. */
    participants: z.array(z.string().min(1)).default([]),
  })
  .strict()
  .refine((r) => r.partners.length > 0 || r.participants.length > 0, {
    message: "a retention rule needs partners or participants (use default_days for everything else)",
  });

export const archiveSection = z
  .object({
    /**
     * sqlite:PATH (relative to data_dir) or postgres://... The secret part can
     * come from the environment: DEMARC_ARCHIVE_URL overrides this value.
     */
    url: z.string().default("sqlite:archive.db"),
    /** Seconds to wait for the database at start. */
    connect_timeout_s: z.number().min(1).max(300).default(10),
    /** Envelope kinds that are archived; others only when compliance enforced a verdict on them. */
    kinds: z
      .array(z.enum(["message", "presence", "subscription", "groupchat", "file-transfer", "iq"]))
      .default(["message", "groupchat", "subscription", "file-transfer"]),
    /** refuse: a message the journal cannot hold is not delivered (fail closed); deliver: it crosses unarchived. */
    on_journal_failure: z.enum(["refuse", "deliver"]).default("refuse"),
    journal: z
      .object({
        /** Relative to data_dir. */
        dir: z.string().default("archive-journal"),
        /** Disk the journal may use while the database is away. */
        budget_mb: z.number().min(1).max(1_048_576).default(1024),
        segment_mb: z.number().min(0.0625).max(1024).default(16),
        /** Extra wait before each group commit, to batch more records per fsync. */
        commit_delay_ms: z.number().min(0).max(100).default(2),
        /**
         * Share of budget_mb waiting for the database at which partner and
         * client streams stop being read (TCP back-pressure) until the writer
         * catches up; above it nothing is dropped, senders are slowed.
         */
        pause_at_percent: z.number().min(1).max(100).default(75),
      })
      .strict()
      .refine((j) => j.budget_mb >= 2 * j.segment_mb, { message: "budget_mb must be at least twice segment_mb" })
      .prefault({}),
    writer: z
      .object({
        batch: z.number().int().min(1).max(10_000).default(500),
        /** Longest wait between retries while the database is down. */
        retry_max_ms: z.number().int().min(10).max(60_000).default(2_000),
      })
      .strict()
      .prefault({}),
    retention: z
      .object({
        /** Days to keep records no rule covers; 0 keeps forever. Seven years by default. */
        default_days: z.number().int().min(0).max(36_500).default(2557),
        rules: z.array(retentionRule).default([]),
        /** Hours between purge runs in the gateway; 0 leaves purging to `demarc archive purge`. */
        purge_interval_h: z.number().min(0).max(8760).default(24),
      })
      .strict()
      .prefault({}),
  })
  .strict();

export type ArchiveConfig = z.infer<typeof archiveSection>;
