/** Retention (admin): the rules in force, the purges so far, and a dry run or a purge now. Held records are always kept. */
import { purge } from "../../../archive/retention.js";
import { html, type SafeHtml } from "../html.js";
import { time } from "../layout.js";
import { notice } from "../notice.js";
import { fields, type ConsoleRoute, type Page } from "../types.js";

async function view(p: Page, message?: SafeHtml): Promise<SafeHtml> {
  const cfg = p.deps.config().archive.retention;
  const purges = await p.deps.store.purges();
  const csrf = html`<input type="hidden" name="_csrf" value="${p.session.csrf}">`;
  return p.render(
    "Retention",
    html`${message ?? ""}<h2>Rules (archive.retention)</h2><pre class="body">${JSON.stringify(cfg, null, 2)}</pre>
<form class="stack" method="post" action="/console/retention/purge">${csrf}<label><span><input type="checkbox" name="dry_run" value="on" checked> dry run: only count</span></label><button type="submit" class="danger">Apply retention now</button></form>
<h2>Purges</h2><table id="purges"><tr><th>#</th><th>When</th><th>By</th><th>Purged</th><th>Kept by holds</th></tr>
${purges.slice(-100).reverse().map((x) => html`<tr><td>${x.id}</td><td>${time(x.at)}</td><td>${x.actor}</td><td>${x.purged}</td><td>${x.held}</td></tr>`)}</table>
${purges.length === 0 ? html`<p class="none">no purge has run</p>` : ""}`,
  );
}

export const retentionRoutes: ConsoleRoute[] = [
  { method: "GET", url: "/retention", need: "admin", handler: async (_req, _reply, p) => view(p) },
  {
    method: "POST",
    url: "/retention/purge",
    need: "admin",
    async handler(req, _reply, p) {
      const dryRun = fields(req.body).dry_run === "on";
      const r = await purge(p.deps.store, p.deps.config().archive.retention, { now: Date.now(), actor: p.who.name, dryRun });
      await p.audit(dryRun ? "purge-dry-run" : "purge", { purgeId: r.purgeId ?? null, byRule: r.byRule }, r.purged);
      return view(p, notice(`${dryRun ? "would purge" : "purged"} ${r.purged} record(s); ${r.held} kept by legal holds`));
    },
  },
];
