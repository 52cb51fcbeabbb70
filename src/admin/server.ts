/**
 * The admin HTTP server: liveness, readiness and Prometheus metrics. Modules
 * add their APIs to the /api scope (ctx.adminApiRoutes), which admin.token
 * guards (src/admin/api-auth.ts); ctx.adminRoutes are mounted at the root,
 * outside that guard, for parts with their own authentication.
 */
import Fastify, { type FastifyInstance } from "fastify";
import type { GatewayContext, GatewayModule } from "../module.js";
import { listen } from "../listen.js";
import { registerApiScope } from "./api-auth.js";
import { registerConsole, type ConsoleSources } from "./console/index.js";

const DB_PROBE_MS = 1_000;

/** The core's account store as /readyz reports it: whether it is serving from memory, and what it queued. */
export interface AccountStore {
  down?: string | undefined;
  queued?: number | undefined;
}

export interface AdminWiring {
  /** The core's store, when a core runs. */
  accounts?: (() => AccountStore | undefined) | undefined;
  console?: ConsoleSources | undefined;
}

/** Whether the database answers now, and what the gateway does meanwhile when it does not. */
async function databaseStatus(ctx: GatewayContext, store: AccountStore | undefined): Promise<Record<string, unknown>> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      ctx.db.raw("select 1"),
      new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${DB_PROBE_MS} ms`)), DB_PROBE_MS))),
    ]);
    return { status: "ok", ...(store?.queued ? { queuedAccountChanges: store.queued } : {}) };
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    return {
      status: "unreachable",
      error: e.code ?? e.message.split("\n")[0],
      archive: "journal keeps every record until the database is back",
      ...(store ? { accounts: "served from memory", queuedAccountChanges: store.queued ?? 0 } : {}),
    };
  } finally {
    clearTimeout(timer);
  }
}

function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || host.startsWith("127.");
}

export interface AdminModule extends GatewayModule {
  address?: { host: string; port: number };
  /** The HTTP server, once started. */
  readonly app: FastifyInstance | undefined;
}

export function adminModule(wiring: AdminWiring = {}): AdminModule {
  let app: FastifyInstance | undefined;
  const mod: AdminModule = {
    get app() {
      return app;
    },
    name: "admin",
    async start(ctx: GatewayContext) {
      const { host, port, enabled } = ctx.config.admin;
      if (!enabled) return;
      app = Fastify({ logger: false, bodyLimit: 1 << 20 });
      app.get("/healthz", async () => ({ status: "ok" }));
      app.get("/readyz", async (_req, reply) => {
        const problems: Record<string, string> = {};
        for (const [name, check] of ctx.readiness) {
          const problem = check();
          if (problem) problems[name] = problem;
        }
        const database = await databaseStatus(ctx, wiring.accounts?.());
        const ready = Object.keys(problems).length === 0;
        // A database outage alone is "degraded", not "not ready": the journal keeps every message and accounts are served from memory.
        const status = !ready ? "not-ready" : database.status === "ok" ? "ready" : "degraded";
        return reply.code(ready ? 200 : 503).send({ status, problems, database });
      });
      app.get("/metrics", async (_req, reply) => {
        reply.header("content-type", ctx.metrics.contentType);
        return ctx.metrics.metrics();
      });
      // The APIs release held messages and set presence: with admin.token set, only its holder may call them.
      await registerApiScope(app, () => ctx.config.admin.token, ctx.adminApiRoutes);
      for (const register of ctx.adminRoutes) register(app);
      if (ctx.config.admin.console.enabled) registerConsole(app, ctx, wiring.console);
      await app.ready();
      mod.address = await listen(app.server, host, port, "admin HTTP");
      ctx.log.info({ host: mod.address.host, port: mod.address.port }, "admin HTTP listening");
      if (!ctx.config.admin.token && !isLoopback(host)) {
        ctx.log.warn({ host }, "admin API on a non-loopback address without admin.token: anyone who reaches it can release quarantined messages");
      }
    },
    async stop() {
      await app?.close();
    },
  };
  return mod;
}
