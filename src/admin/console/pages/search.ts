/** Search: every archive filter, newest first, a page at a time (keyset by record number), audited like the CLI's search. */
import { FORMATS } from "../../../archive/export.js";
import { html, link } from "../html.js";
import { errorBox } from "../layout.js";
import { fields, type ConsoleRoute } from "../types.js";
import { filterForm, filterParams, queryOrRefusal } from "./filters.js";
import { RECORD_HEAD, recordRow } from "./records.js";

const PAGE = 50;

export const searchRoutes: ConsoleRoute[] = [
  {
    method: "GET",
    url: "/search",
    need: "reviewer",
    async handler(req, reply, p) {
      const f = fields(req.query);
      const parsed = queryOrRefusal(f, reply, (why) => p.render("Search", html`${filterForm("/console/search", f)}${errorBox(why)}`));
      if ("page" in parsed) return parsed.page;
      const q = parsed.query;
      const before = f.before && /^\d{1,15}$/.test(f.before) ? Number(f.before) : Number.MAX_SAFE_INTEGER;
      const [rows, total] = await Promise.all([p.deps.store.find(q, { beforeSeq: before, limit: PAGE }), p.deps.store.count(q)]);
      await p.audit("search", q, rows.length);
      const params = filterParams(f);
      const last = rows[rows.length - 1];
      const pager = html`<div class="pager">${f.before ? html`<a href="${link("/console/search", params)}">Newest</a>` : ""}${rows.length === PAGE && last ? html`<a href="${link("/console/search", { ...params, before: last.seq })}">Older</a>` : ""}</div>`;
      const exportForm = html`<form class="stack" method="post" action="/console/export">
<input type="hidden" name="_csrf" value="${p.session.csrf}">
${Object.entries(params).map(([k, v]) => html`<input type="hidden" name="${k}" value="${v}">`)}
<label>Export these ${total} record(s) as<select name="format">${FORMATS.map((x) => html`<option value="${x}">${x}</option>`)}</select></label>
<button type="submit">Export</button></form>`;
      return p.render(
        "Search",
        html`${filterForm("/console/search", f)}<p class="muted">${total} record(s) match; newest first.</p>${exportForm}
<table id="results">${RECORD_HEAD}${rows.map(recordRow)}</table>${rows.length === 0 ? html`<p class="none">nothing matches</p>` : ""}${pager}`,
      );
    },
  },
];
