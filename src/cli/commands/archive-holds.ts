/**
 * `demarc archive hold add|list|release`: legal holds. A hold's scope comes
 * from the filters given; the store keeps it, the command prints it.
 */
import type { Command } from "commander";
import { UsageError } from "../../errors.js";
import type { ArchiveQuery, Hold } from "../../archive/store.js";
import { queryFrom, withFilters, type FilterOptions } from "../archive-filters.js";
import { action } from "../run.js";
import { limitOf, out, type Run } from "./archive-common.js";

/** --participant alone holds a user, --domain alone a domain, anything else the search. */
export function holdScope(q: ArchiveQuery): readonly ["user" | "domain" | "search", string] {
  const keys = Object.keys(q);
  if (keys.length === 0) throw new UsageError("say what to hold: --participant, --domain, or search filters");
  if (keys.length === 1 && q.participant) return ["user", q.participant.toLowerCase()];
  if (keys.length === 1 && q.domain) return ["domain", q.domain.toLowerCase()];
  return ["search", JSON.stringify(q)];
}

export function holdLine(h: Hold): string {
  const released = h.releasedAt ? ` released ${new Date(h.releasedAt).toISOString()} by ${h.releasedBy}` : "";
  return `${h.id} ${h.scope} ${h.value} by ${h.createdBy} ${new Date(h.createdAt).toISOString()}${h.reason ? ` "${h.reason}"` : ""}${released}`;
}

export function registerHolds(archive: Command, run: Run): void {
  const hold = archive.command("hold").description("legal holds: records they cover are never purged");
  withFilters(hold.command("add").description("place a hold: --participant alone holds a user, --domain alone a domain, other filters a search"))
    .option("--reason <text>", "case number or why")
    .action(
      action(async (o: FilterOptions & { reason?: string; actor?: string }) => {
        const [scope, value] = holdScope(queryFrom(o));
        await run(o.actor, async (s) => {
          const id = await s.store.addHold({ createdAt: Date.now(), createdBy: s.actor, scope, value, reason: o.reason ?? null });
          await s.audit("hold", { id, scope, value, reason: o.reason ?? null }, null);
          out(`hold ${id} placed (${scope}: ${value})`);
        });
      }),
    );
  hold
    .command("list")
    .description("holds in force (--all: released ones too)")
    .option("--all", "include released holds")
    .option("--actor <name>", "who is asking")
    .action(action(async (o: { all?: boolean; actor?: string }) => run(o.actor, async (s) => (await s.store.holds(!o.all)).forEach((h) => out(holdLine(h))))));
  hold
    .command("release")
    .description("release a hold; its records become subject to retention again")
    .argument("<id>")
    .option("--actor <name>", "who is asking")
    .action(
      action(async (id: string, o: { actor?: string }) =>
        run(o.actor, async (s) => {
          const n = limitOf(id);
          if (!(await s.store.releaseHold(n, s.actor, Date.now()))) throw new UsageError(`no hold ${id} in force`);
          await s.audit("release-hold", { id: n }, null);
          out(`hold ${n} released`);
        }),
      ),
    );
}
