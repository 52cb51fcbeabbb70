/** Policy: the version and files loaded now, every rule, and how often each rule fired (enforced and shadow) over a period. */
import { ruleHits } from "../../../archive/review-queries.js";
import { html } from "../html.js";
import { errorBox } from "../layout.js";
import { fields, type ConsoleRoute } from "../types.js";
import { FilterError, parseTime } from "./filters.js";

const DAY = 86_400_000;

export const policyRoutes: ConsoleRoute[] = [
  {
    method: "GET",
    url: "/policy",
    need: "officer",
    async handler(req, reply, p) {
      const f = fields(req.query);
      const form = html`<form class="stack" method="get" action="/console/policy">
<label>From (UTC) <input type="datetime-local" name="since" value="${f.since ?? ""}"></label><label>Until (UTC) <input type="datetime-local" name="until" value="${f.until ?? ""}"></label>
<button type="submit">Count rule hits</button></form>`;
      let since: number;
      let until: number;
      try {
        until = parseTime(f.until, "until") ?? Date.now();
        since = parseTime(f.since, "from") ?? until - 7 * DAY;
      } catch (err) {
        if (!(err instanceof FilterError)) throw err;
        reply.code(400);
        return p.render("Policy", html`${form}${errorBox(err.message)}`);
      }
      const set = p.deps.policy();
      const hits = await ruleHits(p.deps.db, since, until);
      await p.audit("policy-report", { since, until }, hits.length);
      const loaded = set
        ? html`<dl class="facts"><dt>Version</dt><dd><code>${set.version}</code></dd><dt>Folder</dt><dd>${set.dir}</dd><dt>Files</dt><dd>${set.files.length ? set.files.map((x) => html`<div>${x}</div>`) : html`<span class="none">none</span>`}</dd></dl>
<h2>Rules in evaluation order</h2><table id="rules"><tr><th>Rule</th><th>Stage</th><th>Mode</th><th>Action</th><th>File</th></tr>
${set.rules.map((r) => html`<tr><td><code>${r.id}</code></td><td>${r.stage}</td><td>${r.shadow ? "shadow (observes only)" : "enforced"}</td><td>${r.then.action}</td><td>${r.origin.file}</td></tr>`)}</table>`
        : errorBox("the compliance module is not running in this gateway");
      return p.render(
        "Policy",
        html`${loaded}<h2>Rule hits from ${new Date(since).toISOString()} to ${new Date(until).toISOString()}</h2>${form}
<table id="hits"><tr><th>Rule</th><th>Enforced hits</th><th>Shadow hits</th></tr>${hits.map((h) => html`<tr data-rule="${h.ruleId}"><td><code>${h.ruleId}</code></td><td>${h.enforced}</td><td>${h.shadow}</td></tr>`)}</table>
${hits.length === 0 ? html`<p class="none">no rule fired in this period</p>` : ""}`,
      );
    },
  },
];
