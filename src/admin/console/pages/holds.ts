/** Legal holds: list (in force and released), place one on a person or a partner domain, release one. Audited as the CLI's are. */
import type { Hold } from "../../../archive/store.js";
import { html, seg, type SafeHtml } from "../html.js";
import { errorBox, time } from "../layout.js";
import { notice } from "../notice.js";
import { fields, type ConsoleRoute, type Page } from "../types.js";

function holdRow(h: Hold, p: Page): SafeHtml {
  return html`<tr data-hold="${h.id}"><td>${h.id}</td><td>${h.scope}</td><td class="value">${h.value}</td><td class="reason">${h.reason ?? ""}</td><td>${h.createdBy}</td><td>${time(h.createdAt)}</td>
<td>${h.releasedAt ? html`released by ${h.releasedBy} ${time(h.releasedAt)}` : html`<form method="post" action="${`/console/holds/${seg(h.id)}/release`}"><input type="hidden" name="_csrf" value="${p.session.csrf}"><button type="submit" class="secondary">Release</button></form>`}</td></tr>`;
}

async function list(p: Page, message?: SafeHtml): Promise<SafeHtml> {
  const holds = await p.deps.store.holds(false);
  return p.render(
    "Legal holds",
    html`${message ?? ""}<form class="stack" method="post" action="/console/holds"><input type="hidden" name="_csrf" value="${p.session.csrf}">
<label>Hold<select name="scope"><option value="user">a person (bare address)</option><option value="domain">a partner domain</option></select></label>
<label>Address or domain <input name="value" required maxlength="1023"></label><label>Reason or case number <input name="reason" maxlength="1000"></label>
<button type="submit">Place hold</button></form>
<table id="holds"><tr><th>#</th><th>Scope</th><th>Holds</th><th>Reason</th><th>Placed by</th><th>Placed</th><th>State</th></tr>${holds.map((h) => holdRow(h, p))}</table>
${holds.length === 0 ? html`<p class="none">no legal holds</p>` : ""}<p class="muted">Records a hold in force covers are never purged by retention. Search-scoped holds are placed with <code>demarc archive hold add</code>.</p>`,
  );
}

export const holdRoutes: ConsoleRoute[] = [
  { method: "GET", url: "/holds", need: "officer", handler: async (_req, _reply, p) => list(p) },
  {
    method: "POST",
    url: "/holds",
    need: "officer",
    async handler(req, reply, p) {
      const f = fields(req.body);
      const scope = f.scope === "domain" ? "domain" : f.scope === "user" ? "user" : undefined;
      const value = f.value?.trim().toLowerCase() ?? "";
      const problem = !scope ? "choose a person or a domain" : !value ? "say whom to hold" : scope === "user" && !/^[^@\s/]+@[^@\s/]+$/.test(value) ? `"${value}" is not a bare address (name@domain)` : scope === "domain" && !/^[^@\s/]+\.[^@\s/]+$/.test(value) ? `"${value}" is not a domain` : undefined;
      if (problem) {
        reply.code(400);
        return list(p, errorBox(problem));
      }
      const reason = f.reason?.trim().slice(0, 1000) || null;
      const id = await p.deps.store.addHold({ createdAt: Date.now(), createdBy: p.who.name, scope: scope!, value, reason });
      await p.audit("hold", { id, scope, value, reason }, null);
      return list(p, notice(`hold ${id} placed on ${value}`));
    },
  },
  {
    method: "POST",
    url: "/holds/:id/release",
    need: "officer",
    async handler(req, reply, p) {
      const raw = (req.params as { id: string }).id;
      const id = /^\d{1,9}$/.test(raw) ? Number(raw) : 0;
      if (!id || !(await p.deps.store.releaseHold(id, p.who.name, Date.now()))) {
        reply.code(404);
        return list(p, errorBox(`no hold ${raw} in force`));
      }
      await p.audit("release-hold", { id }, null);
      return list(p, notice(`hold ${id} released`));
    },
  },
];
