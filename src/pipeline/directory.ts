/**
 * The group directory as a gateway module, and the sources it is built from
 * in one place for the gateway and the CLI: `core.groups` from the config and
 * the groups set on accounts (core_users.group_name, written by `users add
 * --group` and CSV import). Policy files add their own layer when they load.
 * The composition root creates one GroupDirectory and hands it to this module,
 * to compliance and to the core by name, so no reader can start without it.
 */
import type { LoadedConfig } from "../config/load.js";
import type { Db } from "../archive/db.js";
import type { GatewayModule } from "../module.js";
import { GroupDirectory, type DirectoryConnector } from "./groups.js";
import type { FederationFacts } from "./policy/lint.js";

export const CONFIG_LAYER = "config";
export const ACCOUNTS_LAYER = "accounts";
export const POLICY_LAYER = "policy";

/** What policy lint needs of the federation settings to tell rules that can never fire. */
export function federationFacts(cfg: LoadedConfig): FederationFacts {
  return { mode: cfg.federation.mode, partners: cfg.partners.map((p) => p.domain.toLowerCase()), deny: cfg.federation.deny.map((d) => d.toLowerCase()) };
}

/** core.groups: { name: { members: [...] } } as a directory layer. */
export function configGroups(cfg: LoadedConfig): Record<string, string[]> {
  return Object.fromEntries(Object.entries(cfg.core.groups).map(([name, g]) => [name, g.members]));
}

/** Groups on accounts, read straight from the accounts table (one query, only accounts that have a group). */
export function accountGroups(db: Db): DirectoryConnector {
  return {
    name: ACCOUNTS_LAYER,
    async load() {
      const rows = (await db("core_users").whereNotNull("group_name").select("jid", "group_name")) as { jid: string; group_name: string }[];
      const out: Record<string, string[]> = {};
      for (const r of rows) (out[r.group_name] ??= []).push(r.jid);
      return out;
    },
  };
}

export function directoryModule(directory: GroupDirectory): GatewayModule {
  let timer: NodeJS.Timeout | undefined;
  return {
    name: "directory",
    async start(ctx) {
      directory.setLayer(CONFIG_LAYER, configGroups(ctx.config));
      if (ctx.config.mode === "single-box") directory.addConnector(accountGroups(ctx.db));
      await directory.refresh(ctx.log);
      const every = ctx.config.core.groups_refresh_s * 1000;
      // A `users add --group` in another process reaches the running gateway on the next refresh (or SIGHUP).
      if (every > 0) timer = setInterval(() => void directory.refresh(ctx.log), every).unref();
      ctx.log.info({ groups: directory.names().length }, "group directory ready");
    },
    async reload(ctx) {
      directory.setLayer(CONFIG_LAYER, configGroups(ctx.config));
      await directory.refresh(ctx.log);
    },
    async stop() {
      clearInterval(timer);
      timer = undefined;
    },
  };
}
