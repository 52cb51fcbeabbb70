/**
 * The admin HTTP server: liveness, readiness and Prometheus metrics. Modules
 * add their APIs to the /api scope (ctx.adminApiRoutes), which admin.token
 * guards (src/admin/api-auth.ts); ctx.adminRoutes are mounted at the root,
 * outside that guard, for parts with their own authentication.
 */
import Fastify, { type FastifyInstance } from "fastify";
import type { GatewayContext, GatewayModule } from "../gateway/context.js";
import { listen } from "../gateway/listen.js";
import { registerApiScope } from "./api-auth.js";

function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || host.startsWith("127.");
}

export function adminModule(): GatewayModule & { address?: { host: string; port: number } } {
  let app: FastifyInstance | undefined;
  const mod: GatewayModule & { address?: { host: string; port: number } } = {
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
        const ready = Object.keys(problems).length === 0;
        return reply.code(ready ? 200 : 503).send({ status: ready ? "ready" : "not-ready", problems });
      });
      app.get("/metrics", async (_req, reply) => {
        reply.header("content-type", ctx.metrics.contentType);
        return ctx.metrics.metrics();
      });
      ctx.services.set("admin.http", app);
      // The APIs release held messages and set presence: with admin.token set, only its holder may call them.
      await registerApiScope(app, () => ctx.config.admin.token, ctx.adminApiRoutes);
      for (const register of ctx.adminRoutes) register(app);
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
