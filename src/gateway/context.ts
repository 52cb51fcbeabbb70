/**
 * What every gateway module is given. Modules take their dependencies from here
 * by name and publish what others need (the core, the pipeline) as services,
 * so the composition root stays the only place that knows the order.
 */
import type { FastifyInstance } from "fastify";
import type { Registry } from "prom-client";
import type { LoadedConfig } from "../config/load.js";
import type { Logger } from "../log.js";
import type { Db } from "../archive/db.js";
import type { CertStore } from "../tls/store.js";
import type { Router } from "../router/router.js";

/** A readiness check returns a problem, or undefined when all is well. */
export type ReadinessCheck = () => string | undefined;

export interface GatewayContext {
  config: LoadedConfig;
  log: Logger;
  metrics: Registry;
  db: Db;
  certs: CertStore;
  router: Router;
  readiness: Map<string, ReadinessCheck>;
  /** Routes modules add to the admin HTTP server; it registers them when it starts (last). */
  adminRoutes: ((app: FastifyInstance) => void)[];
  /**
   * Routes under /api on the admin HTTP server, behind admin.token; each gets
   * the /api scope, so its prefix is relative to /api.
   */
  adminApiRoutes: ((api: FastifyInstance) => void)[];
  /** Services modules publish for each other, by name. */
  services: Map<string, unknown>;
}

export interface GatewayModule {
  readonly name: string;
  start(ctx: GatewayContext): Promise<void>;
  /** Stop accepting new work, drain what is in flight within drainMs, then close. */
  stop(drainMs: number): Promise<void>;
  /** Apply a new config (SIGHUP). Throws to keep the old one. */
  reload?(ctx: GatewayContext): Promise<void>;
}

export function service<T>(ctx: GatewayContext, name: string): T {
  const s = ctx.services.get(name);
  if (s === undefined) throw new Error(`service "${name}" is not started`);
  return s as T;
}
