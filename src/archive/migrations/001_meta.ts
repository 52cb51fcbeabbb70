import type { Knex } from "knex";

/** Facts about this deployment that outlive a process: install id, first start. */
export async function up(db: Knex): Promise<void> {
  await db.schema.createTable("demarc_meta", (t) => {
    t.string("key", 64).primary();
    t.text("value").notNullable();
    t.timestamp("updated_at", { useTz: true }).notNullable().defaultTo(db.fn.now());
  });
}

export async function down(db: Knex): Promise<void> {
  await db.schema.dropTable("demarc_meta");
}
