/**
 * The contract between a gateway module and the gateway that runs it: what
 * every module is given at start (config, log, metrics, database,
 * certificates, router), and the lifecycle it answers to. What one module
 * needs of another is not in here: each module's factory takes it as a typed
 * argument, and the composition root (src/gateway/modules.ts) wires them.
 */
import type { FastifyInstance } from "fastify";
import type { Registry } from "prom-client";
import type { LoadedConfig } from "./config/load.js";
import type { Logger } from "./log.js";
import type { Db } from "./archive/db.js";
import type { CertStore } from "./tls/store.js";
import type { Router } from "./router/router.js";
import type { Federation } from "./config/federation.js";

/** A readiness check returns a problem, or undefined when all is well. */
export type ReadinessCheck = () => string | undefined;

export interface GatewayContext {
  config: LoadedConfig;
  log: Logger;
  metrics: Registry;
  db: Db;
  certs: CertStore;
  router: Router;
  /**
   * The federation in force: hosted domains, partners and how each is reached.
   * A reload swaps it whole; ask it each time rather than keeping an answer.
   */
  federation: () => Federation;
  readiness: Map<string, ReadinessCheck>;
  /** Routes modules add to the admin HTTP server; it registers them when it starts (last). */
  adminRoutes: ((app: FastifyInstance) => void)[];
  /**
   * Routes under /api on the admin HTTP server, behind admin.token; each gets
   * the /api scope, so its prefix is relative to /api.
   */
  adminApiRoutes: ((api: FastifyInstance) => void)[];
}

export interface GatewayModule {
  readonly name: string;
  start(ctx: GatewayContext): Promise<void>;
  /** Stop accepting new work, drain what is in flight within drainMs, then close. */
  stop(drainMs: number): Promise<void>;
  /** Apply a new config (SIGHUP). Throws to keep the old one. */
  reload?(ctx: GatewayContext): Promise<void>;
}

/**
 * Something a module makes at start and another reads later: the reader is
 * given this function by the composition root, and calls it when it needs the
 * thing (after its maker has started; a reload may have replaced it).
 */
export type Provider<T> = () => T;

/** A Provider for what its maker holds once started; asking earlier is a wiring mistake. */
export function started<T>(what: string, get: () => T | undefined): Provider<T> {
  return () => {
    const v = get();
    if (v === undefined) throw new Error(`${what} is not started`);
    return v;
  };
}
