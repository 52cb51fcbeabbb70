/**
 * The core as a gateway module (single-box and core modes): the knex store in
 * the archive's database, the core on it installed as the router's internal
 * target, and held for the access modules and the SIP edge.
 */
import { Gauge } from "prom-client";
import type { GatewayContext, GatewayModule } from "../module.js";
import type { CoreConfig } from "../config/sections/core.js";
import { PresenceCore } from "../core/core.js";
import type { Envelope } from "../model/envelope.js";
import type { Archiver, Compliance } from "../model/route.js";
import { KnexStore } from "../core/knex-store.js";
import { FallbackStore } from "../core/fallback-store.js";
import { PresencePolicy } from "../core/policy.js";
import { presenceSourceRoutes } from "../admin/presence-sources.js";
import { ConfigError } from "../errors.js";
import type { GroupDirectory } from "../pipeline/groups.js";

export interface CoreWiring {
  /** The gateway's one group directory; watch rules may name any group it knows. */
  directory?: GroupDirectory | undefined;
  /** Whether a compliance wall stands between two bare JIDs for presence. */
  walled?: ((watcher: string, watched: string) => boolean) | undefined;
  /** Screens the statuses the core fans out to local contacts itself (without the router). */
  compliance?: (() => Compliance | undefined) | undefined;
  /** Records the screened statuses compliance intervened on. */
  archive?: (() => Archiver | undefined) | undefined;
}

export interface CoreModule extends GatewayModule {
  /** The core, once started. */
  readonly core: PresenceCore | undefined;
  /** Its store, once started: /readyz tells what the store does while the database is away. */
  readonly store: FallbackStore | undefined;
}

/** Throws a ConfigError for a watch rule naming a group neither core.groups nor the directory defines. */
export function policyFromConfig(cfg: CoreConfig, wiring: CoreWiring = {}): PresencePolicy {
  cfg.watch_rules.forEach((r, i) => {
    for (const key of ["watcher", "watched"] as const) {
      const g = r[key];
      if (g !== "*" && !(g in cfg.groups) && !wiring.directory?.knows(g)) {
        throw new ConfigError(`core.watch_rules.${i}.${key}: unknown group "${g}" (define it in core.groups, in a policy file's groups:, or on accounts with users add --group)`);
      }
    }
  });
  return new PresencePolicy({
    groups: cfg.groups,
    watchRules: cfg.watch_rules,
    defaultAllow: cfg.default_watch === "allow",
    directory: wiring.directory,
    walled: wiring.walled,
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

/** Compliance (and, when it intervened, the archive) for a status the core fans out to local contacts. */
async function screenPresence(wiring: CoreWiring, e: Envelope): Promise<Envelope | undefined> {
  const compliance = wiring.compliance?.();
  if (!compliance) return e;
  const decision = await compliance.evaluate(e);
  const archive = wiring.archive?.();
  // Fail closed as the router does: a status whose decision cannot be archived is withheld.
  let archived = true;
  if (archive) await archive.record(e, decision).catch(() => (archived = false));
  return decision.deliver && archived ? decision.envelope : undefined;
}

export function coreModule(wiring: CoreWiring = {}): CoreModule {
  let fallback: FallbackStore | undefined;
  let core: PresenceCore | undefined;
  let stopping = false;
  let ctx0: GatewayContext | undefined;
  const mod: CoreModule = {
    name: "core",
    get core() {
      return core;
    },
    get store() {
      return fallback;
    },
    async start(ctx: GatewayContext) {
      if (ctx.config.mode === "edge") return;
      ctx0 = ctx;
      const cfg = ctx.config.core;
      const log = ctx.log.child({ module: "core" });
      // Accounts and rosters stay usable while the database is away (src/core/fallback-store.ts).
      const store = new FallbackStore(new KnexStore(ctx.db), {
        onStateChange: (down) => (down ? log.warn({ err: down }, "database away: accounts and rosters served from memory, changes queued") : log.info("database back: queued account and roster changes written")),
        onDropped: (what, err) => log.error({ what, err: err.message }, "database refused a change queued during its outage; dropped"),
      });
      const accounts = await store.warm();
      fallback = store;
      stopping = false;
      void store.warmLists(() => stopping).catch((err: Error) => log.warn({ err: err.message }, "copying rosters into memory stopped"));
      const presence = new PresenceCore({
        domains: () => ctx.federation().hosted,
        store,
        limits: { maxContacts: cfg.max_contacts, maxWatchers: cfg.max_watchers, maxOffline: cfg.max_offline },
        policy: policyFromConfig(cfg, wiring),
        route: (e) => ctx.router.route(e),
        screen: (e) => screenPresence(wiring, e),
        log,
      });
      core = presence;
      ctx.router.useInternal(presence);
      registerMetrics(ctx, presence);
      // Phone, calendar and manual states come from other systems over the admin API.
      ctx.adminApiRoutes.push((api) => void api.register(presenceSourceRoutes, { prefix: "/presence", core: presence, log: ctx.log.child({ module: "presence-sources" }) }));
      ctx.log.info({ domains: ctx.config.domains, accounts }, "presence core ready");
    },
    async reload(ctx: GatewayContext) {
      if (core) await core.usePolicy(policyFromConfig(ctx.config.core, wiring));
    },
    async stop() {
      // Sessions are closed by the access modules, which stop first.
      stopping = true;
      fallback?.close();
      if (fallback?.queued) ctx0?.log.error({ queued: fallback.queued }, "stopping with account and roster changes the database never got");
    },
  };
  return mod;
}
