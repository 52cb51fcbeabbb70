/**
 * Four-eyes review (admin.console.four_eyes): one officer asks for a
 * release or reject of a held message, a second, different officer confirms
 * it, and only then does it happen. The request waits in console_approval
 * (one per record, migration 070); the decision itself is the quarantine
 * desk's, recorded under the confirming officer with the requester named in
 * its comment.
 */
import type { Knex } from "knex";

export interface Approval {
  seq: number;
  decision: "release" | "reject";
  comment: string | null;
  requestedBy: string;
  requestedAt: number;
}

const toApproval = (r: Record<string, unknown>): Approval => ({
  seq: Number(r.seq),
  decision: r.decision as Approval["decision"],
  comment: (r.comment as string | null) ?? null,
  requestedBy: r.requested_by as string,
  requestedAt: Number(r.requested_at),
});

export class Approvals {
  constructor(private readonly db: Knex) {}

  /** False when a request for this record waits already. */
  async request(a: Approval): Promise<boolean> {
    if (await this.get(a.seq)) return false;
    try {
      await this.db("console_approval").insert({ seq: a.seq, decision: a.decision, comment: a.comment, requested_by: a.requestedBy, requested_at: a.requestedAt });
      return true;
    } catch (err) {
      if (await this.get(a.seq)) return false;
      throw err;
    }
  }

  async get(seq: number): Promise<Approval | undefined> {
    const r = await this.db("console_approval").where({ seq }).first();
    return r ? toApproval(r) : undefined;
  }

  async forRecords(seqs: number[]): Promise<Map<number, Approval>> {
    if (seqs.length === 0) return new Map();
    const rows = await this.db("console_approval").whereIn("seq", seqs);
    return new Map(rows.map((r) => [Number(r.seq), toApproval(r)]));
  }

  /** Takes the request away (confirmed or declined); false when it was gone already. */
  async take(seq: number): Promise<boolean> {
    return (await this.db("console_approval").where({ seq }).delete()) > 0;
  }
}
