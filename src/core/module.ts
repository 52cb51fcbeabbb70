/**
 * The core as a gateway module (single-box mode): the knex store in the
 * archive's database, published as service "core" and installed as the
 * router's internal target.
 */
import { Gauge } from "prom-client";
import type { GatewayContext, GatewayModule } from "../gateway/context.js";
import type { CoreConfig } from "../config/sections/core.js";
import { PresenceCore } from "./core.js";
import { KnexStore } from "./knex-store.js";
import { PresencePolicy } from "./policy.js";
import { presenceSourceRoutes } from "../admin/presence-sources.js";

export function policyFromConfig(cfg: CoreConfig): PresencePolicy {
  return new PresencePolicy({
    groups: cfg.groups,
    watchRules: cfg.watch_rules,
    defaultAllow: cfg.default_watch === "allow",
  });
}

function registerMetrics(ctx: GatewayContext, core: PresenceCore): void {
  const gauge = (name: string, help: string, value: () => number) =>
    new Gauge({ name, help, registers: [ctx.metrics], collect() { this.set(value()); } });
  gauge("demarc_core_users_loaded", "users in the core's working set", () => core.users.size);
  gauge("demarc_core_devices_online", "connected devices", () => {
    let n = 0;
    for (const u of core.users.values()) n += u.devices.size;
    return n;
  });
  gauge("demarc_core_events_pushed", "events pushed to devices since start", () => core.stats.pushed);
  gauge("demarc_core_envelopes_routed", "envelopes the core handed to the router since start", () => core.stats.routed);
  gauge("demarc_core_offline_stored", "messages stored for offline users since start", () => core.stats.offlineStored);
}

export function coreModule(): GatewayModule & { core?: PresenceCore } {
  const mod: GatewayModule & { core?: PresenceCore } = {
    name: "core",
    async start(ctx: GatewayContext) {
      if (ctx.config.mode === "edge") return;
      const cfg = ctx.config.core;
      const core = new PresenceCore({
        domains: ctx.config.domains,
        store: new KnexStore(ctx.db),
        limits: { maxContacts: cfg.max_contacts, maxWatchers: cfg.max_watchers, maxOffline: cfg.max_offline },
        policy: policyFromConfig(cfg),
        route: (e) => ctx.router.route(e),
        log: ctx.log.child({ module: "core" }),
      });
      mod.core = core;
      ctx.services.set("core", core);
      ctx.router.useInternal(core);
      registerMetrics(ctx, core);
      // Phone, calendar and manual states come from other systems over the admin API.
      ctx.adminRoutes.push((app) => void app.register(presenceSourceRoutes, { prefix: "/api/presence", core, log: ctx.log.child({ module: "presence-sources" }) }));
      ctx.log.info({ domains: ctx.config.domains }, "presence core ready");
    },
    async reload(ctx: GatewayContext) {
      if (mod.core) await mod.core.usePolicy(policyFromConfig(ctx.config.core));
    },
    async stop() {
      // Sessions are closed by the access modules, which stop first.
    },
  };
  return mod;
}
