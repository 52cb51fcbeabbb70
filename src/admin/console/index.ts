/**
 * Mounts the review console on the admin server: what it reads of the running
 * gateway is wired in by the composition root; the console itself is one encapsulated plugin
 * under /console, and "/" sends a browser there.
 */
import { join } from "node:path";
import type { FastifyInstance } from "fastify";
import { resolvePath } from "../../config/load.js";
import type { GatewayContext } from "../../module.js";
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

/** What the console reads of the other modules; each is absent when its module does not run. */
export interface ConsoleSources {
  archive?: (() => ArchiveService | undefined) | undefined;
  desk?: (() => QuarantineDesk | undefined) | undefined;
  compliance?: (() => CompliancePipeline | undefined) | undefined;
  resolver?: (() => Resolver | undefined) | undefined;
  partners?: PartnerHealth | undefined;
}

export function registerConsole(app: FastifyInstance, ctx: GatewayContext, sources: ConsoleSources = {}): void {
  // Without the archive module (an admin-only gateway) the console still reads the archive tables.
  const store = sources.archive?.()?.store ?? new KnexArchiveStore(ctx.db);
  const limits = () => ({ idleMs: ctx.config.admin.console.idle_minutes * 60_000, maxMs: ctx.config.admin.console.max_hours * 3_600_000 });
  const deps: ConsoleDeps = {
    config: () => ctx.config,
    db: ctx.db,
    store,
    desk: sources.desk?.(),
    officers: new OfficerStore(ctx.db),
    sessions: new SessionStore(limits),
    policy: () => sources.compliance?.()?.policy,
    resolver: () => sources.resolver?.(),
    partners: sources.partners,
    log: ctx.log.child({ module: "console" }),
  };
  const audit = (actor: string, action: string, query: unknown, result: number | null) =>
    store.audit({ at: Date.now(), actor, action, query: JSON.stringify(query), result });
  const jobs = new ExportJobs(join(resolvePath(ctx.config, ctx.config.data_dir), "console-exports"), store, audit);
  void app.register(consolePlugin, { prefix: "/console", deps, jobs });
  app.get("/", async (_req, reply) => reply.code(303).header("location", "/console/").send());
}
