/**
 * Review console accounts and the audit trail's protection.
 *
 * console_officer holds people (password hash, optional TOTP secret, failed
 * attempts and lockout) and the API token's service account (no password).
 * console_approval holds four-eyes requests: a decision one officer asked for
 * and a second must confirm. archive_audit becomes append-only in the
 * database itself: an update or delete is refused by a trigger, so not even a
 * bug in demarc (or a console) can rewrite who did what.
 */
import type { Knex } from "knex";

const pg = (db: Knex) => db.client.config.client === "pg";

export async function up(db: Knex): Promise<void> {
  await db.schema.createTable("console_officer", (t) => {
    t.string("name", 64).primary();
    t.string("role", 16).notNullable();
    t.string("kind", 16).notNullable();
    t.text("password_hash");
    t.text("totp_secret");
    /** The last TOTP time step accepted: a code is good once (RFC 6238 section 5.2). */
    t.bigInteger("totp_step");
    t.integer("failures").notNullable().defaultTo(0);
    t.bigInteger("locked_until");
    t.bigInteger("last_login_at");
    t.bigInteger("created_at").notNullable();
    t.bigInteger("updated_at").notNullable();
  });
  await db.schema.createTable("console_approval", (t) => {
    t.increments("id");
    t.bigInteger("seq").notNullable().unique();
    t.string("decision", 16).notNullable();
    t.text("comment");
    t.string("requested_by", 64).notNullable();
    t.bigInteger("requested_at").notNullable();
  });
  if (pg(db)) {
    await db.raw(`create or replace function archive_audit_append_only() returns trigger language plpgsql as $$
      begin raise exception 'archive_audit is append-only'; end $$`);
    await db.raw(`create trigger archive_audit_no_change before update or delete on archive_audit
      for each row execute function archive_audit_append_only()`);
  } else {
    await db.raw(`create trigger archive_audit_no_update before update on archive_audit
      begin select raise(abort, 'archive_audit is append-only'); end`);
    await db.raw(`create trigger archive_audit_no_delete before delete on archive_audit
      begin select raise(abort, 'archive_audit is append-only'); end`);
  }
  await db.raw("create index archive_audit_actor on archive_audit (actor, id)");
}

export async function down(db: Knex): Promise<void> {
  await db.raw("drop index if exists archive_audit_actor");
  if (pg(db)) {
    await db.raw("drop trigger if exists archive_audit_no_change on archive_audit");
    await db.raw("drop function if exists archive_audit_append_only()");
  } else {
    await db.raw("drop trigger if exists archive_audit_no_update");
    await db.raw("drop trigger if exists archive_audit_no_delete");
  }
  await db.schema.dropTableIfExists("console_approval");
  await db.schema.dropTableIfExists("console_officer");
}
