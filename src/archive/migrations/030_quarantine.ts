/**
 * Review decisions on quarantined records. They live beside archive_message,
 * never in it: the message rows are covered by the hash chain, and a later
 * update to one of them would read as tampering to `demarc archive verify`.
 * The unique key on seq is what makes a record reviewable once, even when two
 * officers act at the same moment. Plain types only, like 010_archive.
 */
import type { Knex } from "knex";

export async function up(db: Knex): Promise<void> {
  await db.schema.createTable("archive_review", (t) => {
    t.increments("id");
    t.bigInteger("seq").notNullable().unique();
    t.bigInteger("at").notNullable();
    t.string("decision", 16).notNullable();
    t.string("actor", 255).notNullable();
    t.text("comment");
  });
}

export async function down(db: Knex): Promise<void> {
  await db.schema.dropTableIfExists("archive_review");
}
