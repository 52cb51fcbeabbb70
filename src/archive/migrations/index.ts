/**
 * Migrations are compiled in, not loaded from files at run time, so the built
 * package and the TypeScript sources run the same list. Append only: a
 * migration that shipped is never edited.
 */
import type { Knex } from "knex";
import * as m001 from "./001_meta.js";
import * as m010 from "./010_archive.js";
import * as m020 from "./020_core.js";
import * as m030 from "./030_quarantine.js";
import * as m040 from "./040_content.js";
import * as m041 from "./041_offline_original.js";
import * as m050 from "./050_outcomes.js";
import * as m070 from "./070_officers.js";

interface Migration {
  up(db: Knex): Promise<void>;
  down(db: Knex): Promise<void>;
}

const migrations: [string, Migration][] = [
  ["001_meta", m001],
  ["010_archive", m010],
  ["020_core", m020],
  ["030_quarantine", m030],
  ["040_content", m040],
  ["041_offline_original", m041],
  ["050_outcomes", m050],
  ["070_officers", m070],
];

export const migrationSource: Knex.MigrationSource<[string, Migration]> = {
  async getMigrations() {
    return migrations;
  },
  getMigrationName([name]) {
    return name;
  },
  async getMigration([, m]) {
    return m;
  },
};
