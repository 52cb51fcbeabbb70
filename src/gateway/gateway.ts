/**
 * The gateway: opens what everything shares (database, certificates, router),
 * then starts the modules in the order data flows, and stops them in reverse.
 */
import { loadConfig, requireSettings, resolvePath, type LoadedConfig, type LoadOptions } from "../config/load.js";
import { ConfigError } from "../errors.js";
import type { Logger } from "../log.js";
import { createMetrics } from "../metrics.js";
import { migrate, openDatabase, parseDbUrl, type Db } from "../archive/db.js";
import { checkPrivateModes, makePrivateDir } from "../archive/file-modes.js";
import { CertStore } from "../tls/store.js";
import { Router } from "../router/router.js";
import type { GatewayContext, GatewayModule } from "../module.js";
import { defaultModules } from "./modules.js";
import { Federation, restartNeeded } from "../config/federation.js";

export class Gateway {
  private ctx: GatewayContext | undefined;
  private started: GatewayModule[] = [];
  /** The federation view, and the config it was built from. */
  private federation: { of: LoadedConfig; view: Federation };

  constructor(
    private config: LoadedConfig,
    private readonly log: Logger,
    private readonly modules: GatewayModule[] = defaultModules(config.mode),
  ) {
    this.federation = { of: config, view: Federation.fromConfig(config) };
  }

  get context(): GatewayContext {
    if (!this.ctx) throw new Error("gateway not started");
    return this.ctx;
  }

  async start(): Promise<void> {
    const cfg = this.config;
    // The gateway needs every setting: an admin API left open because a token variable is unset is not an option.
    requireSettings(cfg);
    const dataDir = resolvePath(cfg, cfg.data_dir);
    makePrivateDir(dataDir);
    const db = await openDatabase(cfg.archive.url, dataDir, cfg.archive.connect_timeout_s, {
      onRetry: (problem, attempt) => attempt === 1 && this.log.warn({ problem, timeoutS: cfg.archive.connect_timeout_s }, "archive database not answering yet; retrying until archive.connect_timeout_s"),
    });
    this.checkModes(dataDir);
    try {
      const applied = await migrate(db);
      if (applied.length) this.log.info({ migrations: applied }, "database migrated");
      this.ctx = this.createContext(db, this.loadCertificates());
      for (const m of this.modules) {
        await m.start(this.ctx);
        this.started.push(m);
        this.log.debug({ module: m.name }, "module started");
      }
    } catch (err) {
      await this.stop();
      await db.destroy();
      throw err;
    }
    this.log.info({ domains: cfg.domains, mode: cfg.mode }, "demarc started");
  }

  /** The archive and core_users.credentials are in there: warn when other local users could read them. */
  private checkModes(dataDir: string): void {
    const target = parseDbUrl(this.config.archive.url, dataDir);
    const file = typeof target.connection === "object" && target.connection.filename !== ":memory:" ? target.connection.filename : undefined;
    for (const finding of checkPrivateModes(dataDir, file)) this.log.warn(finding);
  }

  private loadCertificates(): CertStore {
    const cfg = this.config;
    const certs = CertStore.load({
      dir: resolvePath(cfg, cfg.tls.dir),
      certificates: cfg.tls.certificates.map((c) => ({ cert: resolvePath(cfg, c.cert), key: resolvePath(cfg, c.key) })),
      domains: cfg.domains,
      minVersion: cfg.tls.min_version,
    });
    if (certs.generated) this.log.warn({ path: certs.generated, domains: cfg.domains }, "no certificate installed: made a self-signed one");
    const uncovered = certs.uncovered();
    if (uncovered.length) this.log.warn({ domains: uncovered }, "hosted domains not covered by any installed certificate");
    return certs;
  }

  private createContext(db: Db, certs: CertStore): GatewayContext {
    const cfg = this.config;
    const ctx: GatewayContext = {
      config: cfg,
      log: this.log,
      metrics: createMetrics(),
      db,
      certs,
      router: new Router({ log: this.log, protocolOf: (d) => this.federationOf(ctx.config).protocolOf(d) }),
      federation: () => this.federationOf(ctx.config),
      readiness: new Map(),
      adminRoutes: [],
      adminApiRoutes: [],
    };
    ctx.router.flow.register(ctx.metrics);
    ctx.readiness.set("certificates", () => {
      const missing = certs.uncovered();
      return missing.length ? `no certificate covers ${missing.join(", ")}` : undefined;
    });
    return ctx;
  }

  /**
   * The view of the config in force: replacing the config replaces it, in one
   * step, so no layer sees half of the old federation and half of the new.
   */
  private federationOf(config: LoadedConfig): Federation {
    if (this.federation.of !== config) this.federation = { of: config, view: Federation.fromConfig(config) };
    return this.federation.view;
  }

  /** Re-reads the config file; a bad file leaves the running config in place. */
  async reload(opts: LoadOptions): Promise<void> {
    const ctx = this.context;
    let next: LoadedConfig = this.config;
    let refused = false;
    try {
      const loaded = loadConfig(opts);
      requireSettings(loaded);
      next = loaded;
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      // The modules still reload on the running config: a compliance officer's
      // policy edit must not wait for someone else's config typo to be fixed.
      this.log.error({ err: err.message }, "config reload refused; the previous config stays in force");
      refused = true;
    }
    const restart = restartNeeded(this.config, next);
    this.config = next;
    ctx.config = next;
    for (const m of this.started) {
      try {
        await m.reload?.(ctx);
      } catch (err) {
        this.log.error({ module: m.name, err: (err as Error).message }, "reload refused by module; it keeps its previous settings");
      }
    }
    if (refused) this.log.info({ source: next.source }, "modules reloaded on the previous configuration");
    else if (restart.length) this.log.warn({ source: next.source, restartNeeded: restart }, `configuration reloaded; a restart is needed to apply ${restart.join(", ")}`);
    else this.log.info({ source: next.source }, "configuration reloaded");
  }

  async stop(): Promise<void> {
    const drainMs = this.config.shutdown.drain_ms;
    for (const m of [...this.started].reverse()) {
      try {
        await m.stop(drainMs);
      } catch (err) {
        this.log.error({ module: m.name, err: (err as Error).message }, "module did not stop cleanly");
      }
    }
    this.started = [];
  }

  /** Stops the modules, then closes the database. */
  async close(): Promise<void> {
    await this.stop();
    await this.ctx?.db.destroy();
  }
}
