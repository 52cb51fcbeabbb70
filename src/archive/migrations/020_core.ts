import type { Knex } from "knex";

/** The presence core's accounts, rosters (RFC 6121 subscription state), block lists and offline messages. */
export async function up(db: Knex): Promise<void> {
  await db.schema.createTable("core_users", (t) => {
    t.string("jid", 1024).primary();
    t.string("group_name", 128).nullable();
    // Salted SCRAM credentials (RFC 5802 section 3): never a password.
    t.text("credentials").notNullable();
    t.timestamp("created_at", { useTz: true }).notNullable().defaultTo(db.fn.now());
  });
  await db.schema.createTable("core_roster", (t) => {
    t.string("user_jid", 1024).notNullable();
    t.string("contact", 1024).notNullable();
    t.string("name", 1024).nullable();
    t.text("groups").notNullable().defaultTo("[]");
    t.string("subscription", 8).notNullable().defaultTo("none");
    t.boolean("ask").notNullable().defaultTo(false);
    t.boolean("pending_in").notNullable().defaultTo(false);
    t.boolean("approved").notNullable().defaultTo(false);
    t.boolean("hidden").notNullable().defaultTo(false);
    t.primary(["user_jid", "contact"]);
  });
  await db.schema.createTable("core_blocks", (t) => {
    t.string("user_jid", 1024).notNullable();
    t.string("jid", 1024).notNullable();
    t.primary(["user_jid", "jid"]);
  });
  await db.schema.createTable("core_offline", (t) => {
    t.increments("id").primary();
    t.string("user_jid", 1024).notNullable().index();
    t.bigInteger("received_at").notNullable();
    t.text("envelope").notNullable();
  });
}

export async function down(db: Knex): Promise<void> {
  await db.schema.dropTable("core_offline");
  await db.schema.dropTable("core_blocks");
  await db.schema.dropTable("core_roster");
  await db.schema.dropTable("core_users");
}
