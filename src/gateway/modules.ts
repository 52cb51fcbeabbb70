/**
 * The composition root's module list, in the order data flows: what stores and
 * decides first, then the core behind them, then the listeners that take
 * traffic in, and the admin server last so /readyz is true only when all are up.
 */
import type { GatewayModule } from "./context.js";
import { adminModule } from "../admin/server.js";
import { complianceModule } from "../pipeline/module.js";
import { directoryModule } from "../pipeline/directory.js";
import { GroupDirectory } from "../pipeline/groups.js";
import { tlsModule } from "../tls/module.js";
import { coreModule } from "./core-module.js";
import { c2sModule } from "../access/c2s/module.js";
import { archiveModule } from "../archive/module.js";
import { sipModule } from "../edge/sip/module.js";
import { s2sModule } from "../edge/xmpp/module.js";
import { componentModule } from "../edge/component/module.js";
import { coreLinkModule } from "../access/component/module.js";
import type { Config } from "../config/schema.js";

export function defaultModules(mode: Config["mode"] = "single-box"): GatewayModule[] {
  // One group directory: filled by its module first, read by compliance (walls,
  // rules) and the core (watch rules); the core also asks compliance's walls
  // about presence, which it broadcasts without the router.
  const directory = new GroupDirectory();
  const compliance = complianceModule({ directory });
  if (mode === "edge") {
    // Split mode: the internal servers hold the users; the component links are the router's internal target.
    return [directoryModule(directory), compliance, tlsModule(), archiveModule(), componentModule(), sipModule(), s2sModule(), adminModule()];
  }
  const core = coreModule({ directory, walled: (a, b) => compliance.pipeline?.walled(a, b, "presence") ?? false });
  if (mode === "core") {
    // Split mode, inside: the core with its users; partners are reached only through the edges' component streams.
    return [directoryModule(directory), compliance, tlsModule(), archiveModule(), core, coreLinkModule(), c2sModule(), adminModule()];
  }
  return [
    directoryModule(directory),
    compliance,
    tlsModule(),
    archiveModule(),
    core,
    sipModule(),
    s2sModule(),
    c2sModule(),
    adminModule(),
  ];
}
