/**
 * Delivery outcomes of archived messages: what happened after the decision
 * (delivered, stored offline, bounced with its condition, refused by routing,
 * held, released, rejected). Append-only beside archive_message, never in it:
 * message rows are covered by the hash chain, so an update would read as
 * tampering, and the writer's insert path stays as it is. Keyed by the
 * envelope id the records carry (msg_id), which the router knows when the
 * outcome is; a held message and its release share it, so its history reads
 * held, released, delivered. The latest row per msg_id is its outcome.
 */
import type { Knex } from "knex";

export async function up(db: Knex): Promise<void> {
  await db.schema.createTable("archive_outcome", (t) => {
    t.bigIncrements("id");
    t.string("msg_id", 255).notNullable();
    t.bigInteger("at").notNullable();
    t.string("outcome", 16).notNullable();
    /** The protocol's error condition for bounced and refused (RFC 6120 8.3.3). */
    t.string("condition", 64);
    /** The error text, or who released or rejected it. */
    t.text("detail");
  });
  await db.raw("create index archive_outcome_msg on archive_outcome (msg_id, id)");
}

export async function down(db: Knex): Promise<void> {
  await db.schema.dropTableIfExists("archive_outcome");
}
