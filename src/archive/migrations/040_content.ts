/**
 * The parts of a message beyond body, subject and thread (XHTML-IM, links,
 * file offers, invitations, nickname, status, extensions), as received and as
 * delivered: one JSON text per record (src/archive/content.ts). Nullable, so
 * records written before it keep their hashes.
 */
import type { Knex } from "knex";

export async function up(db: Knex): Promise<void> {
  await db.schema.alterTable("archive_message", (t) => {
    t.text("content");
  });
}

export async function down(db: Knex): Promise<void> {
  await db.schema.alterTable("archive_message", (t) => {
    t.dropColumn("content");
  });
}
