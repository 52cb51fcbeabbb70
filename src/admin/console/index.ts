/**
 * Mounts the review console on the admin server: the services it reads come
 * from the running gateway; the console itself is one encapsulated plugin
 * under /console, and "/" sends a browser there.
 */
import { join } from "node:path";
import type { FastifyInstance } from "fastify";
import { resolvePath } from "../../config/load.js";
import type { GatewayContext } from "../../gateway/context.js";
import type { ArchiveService } from "../../archive/archiver.js";
import type { QuarantineDesk } from "../../archive/quarantine.js";
import { KnexArchiveStore } from "../../archive/knex-store.js";
import type { CompliancePipeline } from "../../pipeline/pipeline.js";
import type { Resolver } from "../../edge/dns/resolver.js";
import type { PartnerHealth } from "../../edge/xmpp/health.js";
import { OfficerStore } from "../../officers/store.js";
import { ExportJobs } from "./exports.js";
import { consolePlugin } from "./plugin.js";
import { SessionStore } from "./session.js";
import type { ConsoleDeps } from "./types.js";

export function registerConsole(app: FastifyInstance, ctx: GatewayContext): void {
  const store = (ctx.services.get("archive") as ArchiveService | undefined)?.store ?? new KnexArchiveStore(ctx.db);
  const limits = () => ({ idleMs: ctx.config.admin.console.idle_minutes * 60_000, maxMs: ctx.config.admin.console.max_hours * 3_600_000 });
  const deps: ConsoleDeps = {
    config: () => ctx.config,
    db: ctx.db,
    store,
    desk: ctx.services.get("quarantine") as QuarantineDesk | undefined,
    officers: new OfficerStore(ctx.db),
    sessions: new SessionStore(limits),
    policy: () => (ctx.services.get("compliance") as CompliancePipeline | undefined)?.policy,
    resolver: () => ctx.services.get("resolver") as Resolver | undefined,
    partners: ctx.services.get("partner-health") as PartnerHealth | undefined,
    log: ctx.log.child({ module: "console" }),
  };
  const audit = (actor: string, action: string, query: unknown, result: number | null) =>
    store.audit({ at: Date.now(), actor, action, query: JSON.stringify(query), result });
  const jobs = new ExportJobs(join(resolvePath(ctx.config, ctx.config.data_dir), "console-exports"), store, audit);
  void app.register(consolePlugin, { prefix: "/console", deps, jobs });
  app.get("/", async (_req, reply) => reply.code(303).header("location", "/console/").send());
}
