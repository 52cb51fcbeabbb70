/** The audit log of who searched, exported, purged or reviewed what. */
import type { Knex } from "knex";
import { num, numOrNull } from "./store-rows.js";
import type { AuditEntry } from "./store.js";

export class AuditStore {
  constructor(private readonly db: Knex) {}

  async audit(e: Omit<AuditEntry, "id">): Promise<void> {
    await this.db("archive_audit").insert(e);
  }

  async auditLog(limit: number): Promise<AuditEntry[]> {
    const rows = await this.db("archive_audit").select("*").orderBy("id", "desc").limit(limit);
    return rows.map((r) => ({ id: num(r.id), at: num(r.at), actor: r.actor, action: r.action, query: r.query ?? null, result: numOrNull(r.result) }));
  }
}
