/** The audit log, newest first, by actor, action and time. The table is append-only in the database (migration 070). */
import { auditSearch } from "../../../archive/review-queries.js";
import { html, link } from "../html.js";
import { errorBox, time } from "../layout.js";
import { fields, type ConsoleRoute } from "../types.js";
import { FilterError, parseTime } from "./filters.js";

const PAGE = 100;

export const auditRoutes: ConsoleRoute[] = [
  {
    method: "GET",
    url: "/audit",
    need: "officer",
    async handler(req, reply, p) {
      const f = fields(req.query);
      const form = html`<form class="stack" method="get" action="/console/audit">
<label>Actor <input name="actor" value="${f.actor ?? ""}"></label><label>Action <input name="action" value="${f.action ?? ""}" placeholder="search, export, quarantine-release..."></label>
<label>From (UTC) <input type="datetime-local" name="since" value="${f.since ?? ""}"></label><label>Until (UTC) <input type="datetime-local" name="until" value="${f.until ?? ""}"></label>
<button type="submit">Filter</button></form>`;
      let since: number | undefined;
      let until: number | undefined;
      try {
        since = parseTime(f.since, "from");
        until = parseTime(f.until, "until");
      } catch (err) {
        if (!(err instanceof FilterError)) throw err;
        reply.code(400);
        return p.render("Audit log", html`${form}${errorBox(err.message)}`);
      }
      const before = f.before && /^\d{1,15}$/.test(f.before) ? Number(f.before) : undefined;
      const rows = await auditSearch(p.deps.db, { actor: f.actor?.trim() || undefined, action: f.action?.trim() || undefined, since, until, beforeId: before, limit: PAGE });
      const last = rows[rows.length - 1];
      const more = rows.length === PAGE && last ? html`<div class="pager"><a href="${link("/console/audit", { actor: f.actor, action: f.action, since: f.since, until: f.until, before: last.id })}">Older</a></div>` : "";
      return p.render(
        "Audit log",
        html`${form}<table id="audit"><tr><th>#</th><th>Time (UTC)</th><th>Actor</th><th>Action</th><th>What</th><th>Result</th></tr>
${rows.map((e) => html`<tr><td>${e.id}</td><td>${time(e.at)}</td><td class="actor">${e.actor}</td><td class="action">${e.action}</td><td class="body"><code>${e.query ?? ""}</code></td><td>${e.result ?? ""}</td></tr>`)}</table>
${rows.length === 0 ? html`<p class="none">no entries</p>` : ""}${more}<p class="muted">Entries cannot be changed or deleted: the database refuses it.</p>`,
      );
    },
  },
];
