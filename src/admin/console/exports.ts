/**
 * Console exports as jobs: the search is written to a file in the data
 * folder (mode 0600) by the archive's own exportRecords, while the page polls
 * its progress; then its owner, and only its owner, downloads it. Files are
 * removed after an hour, or when the gateway stops. The export and each
 * download are audited under the officer's name.
 */
import { createReadStream, createWriteStream, mkdirSync, rmSync, type ReadStream } from "node:fs";
import { once } from "node:events";
import { finished } from "node:stream/promises";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { exportRecords, type ExportFormat } from "../../archive/export.js";
import type { ArchiveQuery, ArchiveStore } from "../../archive/store.js";

export interface ExportJob {
  id: string;
  owner: string;
  format: ExportFormat;
  query: ArchiveQuery;
  total: number;
  done: number;
  state: "running" | "ready" | "failed";
  error?: string;
  path: string;
  createdAt: number;
}

const KEEP_MS = 3_600_000;
const MAX_JOBS = 100;

export class ExportJobs {
  private readonly jobs = new Map<string, ExportJob>();

  constructor(private readonly dir: string, private readonly store: ArchiveStore, private readonly audit: (actor: string, action: string, query: unknown, result: number | null) => Promise<void>) {}

  async start(owner: string, format: ExportFormat, query: ArchiveQuery): Promise<ExportJob> {
    this.sweep();
    if (this.jobs.size >= MAX_JOBS) throw Object.assign(new Error("too many exports are waiting to be downloaded; try again later"), { statusCode: 429 });
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const id = randomBytes(16).toString("hex");
    const job: ExportJob = { id, owner, format, query, total: await this.store.count(query), done: 0, state: "running", path: join(this.dir, `${id}.${format}`), createdAt: Date.now() };
    this.jobs.set(id, job);
    void this.run(job);
    return job;
  }

  private async run(job: ExportJob): Promise<void> {
    const out = createWriteStream(job.path, { mode: 0o600 });
    try {
      await once(out, "open");
      const n = await exportRecords(this.store, job.query, job.format, out, (d) => (job.done = d));
      out.end();
      await finished(out);
      job.done = n;
      job.state = "ready";
      await this.audit(job.owner, "export", { format: job.format, output: "console", query: job.query }, n);
    } catch (err) {
      out.destroy();
      job.state = "failed";
      job.error = (err as Error).message.split("\n")[0];
      await this.audit(job.owner, "export-failed", { format: job.format, output: "console", query: job.query, error: job.error }, job.done).catch(() => undefined);
    }
  }

  /** The job, only for its owner. */
  get(id: string, owner: string): ExportJob | undefined {
    const job = this.jobs.get(id);
    return job && job.owner === owner ? job : undefined;
  }

  open(job: ExportJob): ReadStream {
    return createReadStream(job.path);
  }

  private sweep(): void {
    const old = Date.now() - KEEP_MS;
    for (const [id, j] of this.jobs) {
      if (j.createdAt < old && j.state !== "running") {
        rmSync(j.path, { force: true });
        this.jobs.delete(id);
      }
    }
  }

  close(): void {
    for (const j of this.jobs.values()) rmSync(j.path, { force: true });
    this.jobs.clear();
  }
}
