/**
 * The group directory for the policy tools: core.groups from the config and,
 * when the database answers, the groups set on accounts, so `policy lint`
 * judges "group:NAME" as the running gateway would. A database that cannot be
 * reached costs a warning, not the lint.
 */
import type { LoadedConfig } from "../../config/load.js";
import { resolvePath } from "../../config/load.js";
import { existsSync } from "node:fs";
import { openDatabase, parseDbUrl } from "../../archive/db.js";
import { accountGroups, configGroups, CONFIG_LAYER } from "../../pipeline/directory.js";
import { GroupDirectory } from "../../pipeline/groups.js";

export async function cliDirectory(cfg: LoadedConfig): Promise<GroupDirectory> {
  const directory = new GroupDirectory();
  directory.setLayer(CONFIG_LAYER, configGroups(cfg));
  if (cfg.mode !== "single-box") return directory;
  const warn = (why: string) => process.stderr.write(`demarc: warning: groups on accounts not read (${why}); group:NAME is checked against policy files and core.groups only\n`);
  const dataDir = resolvePath(cfg, cfg.data_dir);
  const target = parseDbUrl(cfg.archive.url, dataDir);
  // No database yet means no accounts yet; opening one would create it.
  if (typeof target.connection === "object" && target.connection.filename !== ":memory:" && !existsSync(target.connection.filename)) return directory;
  let db;
  try {
    db = await openDatabase(cfg.archive.url, dataDir, Math.min(cfg.archive.connect_timeout_s, 5));
  } catch (err) {
    warn((err as Error).message);
    return directory;
  }
  try {
    directory.addConnector(accountGroups(db));
    await directory.refresh({ warn: (o) => warn(String((o as { err?: string }).err)) });
  } finally {
    await db.destroy();
  }
  return directory;
}
