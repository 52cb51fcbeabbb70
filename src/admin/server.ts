/**
 * The admin HTTP server: liveness, readiness and Prometheus metrics. Later
 * parts (archive review, API) register routes on the same instance.
 */
import Fastify, { type FastifyInstance } from "fastify";
import type { GatewayContext, GatewayModule } from "../gateway/context.js";
import { listen } from "../gateway/listen.js";

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
      for (const register of ctx.adminRoutes) register(app);
      await app.ready();
      mod.address = await listen(app.server, host, port, "admin HTTP");
      ctx.log.info({ host: mod.address.host, port: mod.address.port }, "admin HTTP listening");
    },
    async stop() {
      await app?.close();
    },
  };
  return mod;
}
