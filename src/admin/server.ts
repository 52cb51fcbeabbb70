/**
 * The admin HTTP server: liveness, readiness and Prometheus metrics. Later
 * parts (archive review, API) register routes on the same instance.
 */
import Fastify, { type FastifyInstance } from "fastify";
import { createHash, timingSafeEqual } from "node:crypto";
import type { GatewayContext, GatewayModule } from "../gateway/context.js";
import { listen } from "../gateway/listen.js";
import { registerConsole } from "./console/index.js";

/** Compares digests, so the time taken says nothing about how much of the token was right. */
function bearerMatches(header: string | undefined, token: string): boolean {
  const m = /^Bearer (.+)$/i.exec(header ?? "");
  if (!m) return false;
  const digest = (s: string) => createHash("sha256").update(s).digest();
  return timingSafeEqual(digest(m[1]!), digest(token));
}

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
      // The APIs release held messages and set presence: with admin.token set, only its holder may call them.
      app.addHook("onRequest", async (req, reply) => {
        const token = ctx.config.admin.token;
        if (!token || !req.url.startsWith("/api/")) return;
        if (!bearerMatches(req.headers.authorization, token)) {
          return reply.code(401).header("www-authenticate", 'Bearer realm="demarc admin"').send({ error: "admin API: missing or wrong bearer token (admin.token)" });
        }
      });
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
      if (ctx.config.admin.console.enabled) registerConsole(app, ctx);
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
