/**
 * Offline messages stored before the content model kept the stanza as
 * received beside the decided envelope (`original`), pre-redaction text
 * included. This drops it from every stored row, so the offline store holds
 * only what compliance decided. Rows are read and rewritten in pages by id.
 */
import type { Knex } from "knex";

const PAGE = 500;

export async function up(db: Knex): Promise<void> {
  let after = 0;
  for (;;) {
    const rows = (await db("core_offline").select("id", "envelope").where("id", ">", after).orderBy("id").limit(PAGE)) as { id: number | string; envelope: string }[];
    if (!rows.length) return;
    for (const r of rows) {
      after = Number(r.id);
      if (!r.envelope.includes('"original"')) continue;
      let env: Record<string, unknown>;
      try {
        env = JSON.parse(r.envelope) as Record<string, unknown>;
      } catch {
        continue;
      }
      delete env.original;
      await db("core_offline").where("id", r.id).update({ envelope: JSON.stringify(env) });
    }
  }
}

/** What was dropped is gone; there is nothing to put back. */
export async function down(): Promise<void> {}
