/**
 * The composition root: every module is made here, handed what it needs of
 * the others as typed arguments, and listed in the order data flows: what
 * stores and decides first, then the core behind them, then the listeners
 * that take traffic in, and the admin server last so /readyz is true only
 * when all are up.
 */
import { started, type GatewayModule } from "../module.js";
import { adminModule, type AdminModule } from "../admin/server.js";
import { complianceModule } from "../pipeline/module.js";
import { directoryModule } from "../pipeline/directory.js";
import { GroupDirectory } from "../pipeline/groups.js";
import { tlsModule } from "../tls/module.js";
import { coreModule, type CoreModule } from "./core-module.js";
import { c2sModule, type C2sModule } from "../access/c2s/module.js";
import { archiveModule, type ArchiveModule } from "../archive/module.js";
import { sipModule } from "../edge/sip/module.js";
import { s2sModule, type S2sModule } from "../edge/xmpp/module.js";
import { componentModule } from "../edge/component/module.js";
import { coreLinkModule } from "../access/component/module.js";
import type { Config } from "../config/schema.js";
import { PresenceStates } from "../mapping/state-map.js";

/** The modules of one gateway, in start order, and the ones tests and tools look into. */
export interface Composition {
  modules: GatewayModule[];
  archive: ArchiveModule;
  /** Absent in mode: edge, where the internal servers hold the users. */
  core: CoreModule | undefined;
  /** Absent in mode: core, where partners are reached only through the edges. */
  s2s: S2sModule | undefined;
  /** Absent in mode: edge. */
  c2s: C2sModule | undefined;
  admin: AdminModule;
}

export function compose(mode: Config["mode"] = "single-box"): Composition {
  // One group directory: filled by its module first, read by compliance (walls,
  // rules) and the core (watch rules).
  const directory = new GroupDirectory();
  const groups = directoryModule(directory);
  const compliance = complianceModule({ directory });
  const tls = tlsModule();
  const archive = archiveModule();
  // The presence state map: the SIP edge loads the operator's; every edge that renders presence reads it.
  const states = new PresenceStates();
  const consoleSources = { archive: () => archive.service, desk: () => archive.desk, compliance: () => compliance.pipeline, resolver: tls.resolver };

  if (mode === "edge") {
    // Split mode: the internal servers hold the users; the component links are the router's internal target.
    const links = componentModule(tls.trust, states);
    const sip = sipModule({ trust: tls.trust, resolver: tls.resolver, states });
    const s2s = s2sModule({ trust: tls.trust, resolver: tls.resolver, states, confirm: () => links.confirmer });
    const admin = adminModule({ console: { ...consoleSources, partners: s2s.health } });
    return { modules: [groups, compliance, tls, archive, links, sip, s2s, admin], archive, core: undefined, s2s, c2s: undefined, admin };
  }

  // The core asks compliance's walls about presence, and screens the statuses it broadcasts without the router.
  const core = coreModule({
    directory,
    walled: (a, b) => compliance.pipeline?.walled(a, b, "presence") ?? false,
    compliance: () => compliance.pipeline,
    archive: () => archive.service,
  });
  const c2s = c2sModule({ core: started("core", () => core.core), states });
  if (mode === "core") {
    // Split mode, inside: the core with its users; partners are reached only through the edges' component streams.
    const edges = coreLinkModule();
    const admin = adminModule({ accounts: () => core.store, console: consoleSources });
    return { modules: [groups, compliance, tls, archive, core, edges, c2s, admin], archive, core, s2s: undefined, c2s, admin };
  }

  const sip = sipModule({ trust: tls.trust, resolver: tls.resolver, watchers: () => core.core, states });
  const s2s = s2sModule({ trust: tls.trust, resolver: tls.resolver, states });
  const admin = adminModule({ accounts: () => core.store, console: { ...consoleSources, partners: s2s.health } });
  return { modules: [groups, compliance, tls, archive, core, sip, s2s, c2s, admin], archive, core, s2s, c2s, admin };
}

export function defaultModules(mode: Config["mode"] = "single-box"): GatewayModule[] {
  return compose(mode).modules;
}
