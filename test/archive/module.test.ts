/**
 * The archive as a gateway module: the router archives through it, it
 * publishes the "archive" service, readiness and metrics, and stopping the
 * gateway drains the journal into the database.
 */
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { adminModule } from "../../src/admin/server.js";
import { migrate, openDatabase } from "../../src/archive/db.js";
import { archiveModule } from "../../src/archive/module.js";
import { loadConfig } from "../../src/config/load.js";
import type { Config } from "../../src/config/schema.js";
import { Gateway } from "../../src/gateway/gateway.js";
import { envelope, silentLog, tempDir } from "./helpers.js";
import { until } from "../helpers/wait.js";

// This file's loopback address: 127.0.6.2 (admin HTTP).
describe("archiveModule", () => {
  it("archives what the router routes, serves metrics and readiness, and drains on stop", async () => {
    const dir = tempDir();
    const config = loadConfig({
      env: {},
      overrides: {
        domains: ["corp.test"],
        data_dir: join(dir, "data"),
        tls: { dir: join(dir, "certs") },
        admin: { enabled: true, host: "127.0.6.2", port: 0 },
        archive: { journal: { commit_delay_ms: 1 } },
      } as unknown as Partial<Config>,
    });
    const archive = archiveModule();
    const admin = adminModule({ console: { archive: () => archive.service, desk: () => archive.desk } });
    const gw = new Gateway(config, silentLog, [archive, admin]);
    await gw.start();
    try {
      const ctx = gw.context;
      const svc = archive.service!;
      expect(svc).toBeDefined();
      const delivered: string[] = [];
      ctx.router.useInternal({ deliver: async (e) => void delivered.push(e.id) });
      const envs = Array.from({ length: 50 }, () => envelope({ body: "secret body text" }));
      const results = await Promise.all(envs.map((e) => ctx.router.route(e)));
      expect(results.every((r) => r.delivered)).toBe(true);
      expect(delivered).toHaveLength(50);

      const base = `http://127.0.6.2:${admin.address!.port}`;
      const ready = await fetch(`${base}/readyz`);
      expect(await ready.json()).toMatchObject({ problems: {} });
      await until(() => svc.journal.pendingRecords === 0, 5_000, "the journal to drain").catch(() => undefined);
      const metrics = await (await fetch(`${base}/metrics`)).text();
      expect(metrics).toMatch(/^demarc_archive_db_up\{app="demarc"\} 1$/m);
      expect(metrics).toMatch(/^demarc_archive_journal_pending_records\{app="demarc"\} 0$/m);
      expect(metrics).toMatch(/^demarc_archive_records_written_total\{app="demarc"\} 50$/m);
      expect(metrics).toMatch(/^# TYPE demarc_archive_writer_lag_seconds gauge$/m);
      expect(metrics).toMatch(/^# TYPE demarc_archive_refused_total counter$/m);
      // More traffic right before stop: the stop drains it.
      await Promise.all(Array.from({ length: 20 }, () => envelope()).map((e) => ctx.router.route(e)));
    } finally {
      await gw.close();
    }
    const db = await openDatabase("sqlite:archive.db", join(dir, "data"));
    await migrate(db);
    expect(Number((await db("archive_message").count({ n: "*" }))[0]!.n)).toBe(70);
    await db.destroy();
  });
});
