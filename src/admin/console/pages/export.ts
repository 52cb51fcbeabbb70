/** Exporting a search: start (POST), watch its progress (htmx polls), download (owner only). */
import { FORMATS, type ExportFormat } from "../../../archive/export.js";
import type { ExportJob, ExportJobs } from "../exports.js";
import { html, seg, type SafeHtml } from "../html.js";
import { errorBox } from "../layout.js";
import { fields, type ConsoleRoute } from "../types.js";
import { queryOrRefusal } from "./filters.js";

const TYPES: Record<ExportFormat, string> = { jsonl: "application/x-ndjson", csv: "text/csv; charset=utf-8", mbox: "application/mbox" };

function progress(job: ExportJob): SafeHtml {
  const url = `/console/export/${seg(job.id)}`;
  if (job.state === "running") {
    return html`<div id="export" hx-get="${url}" hx-trigger="load delay:300ms" hx-swap="outerHTML"><progress max="${Math.max(job.total, 1)}" value="${job.done}"></progress> ${job.done} of ${job.total} record(s) written</div>`;
  }
  if (job.state === "failed") return html`<div id="export">${errorBox(`the export stopped after ${job.done} record(s): ${job.error ?? "unknown error"}`)}</div>`;
  return html`<div id="export"><progress max="${Math.max(job.total, 1)}" value="${job.done}"></progress> ${job.done} record(s) ready.
<a id="download" href="${`${url}/download`}" download>Download the ${job.format} file</a></div>`;
}

export function exportRoutes(jobs: ExportJobs): ConsoleRoute[] {
  return [
    {
      method: "POST",
      url: "/export",
      need: "reviewer",
      async handler(req, reply, p) {
        const f = fields(req.body);
        if (!(FORMATS as readonly string[]).includes(f.format ?? "")) {
          reply.code(400);
          return p.render("Export", errorBox(`the format must be one of ${FORMATS.join(", ")}`));
        }
        const parsed = queryOrRefusal(f, reply, (why) => p.render("Export", errorBox(why)));
        if ("page" in parsed) return parsed.page;
        const job = await jobs.start(p.who.name, f.format as ExportFormat, parsed.query);
        return p.render("Export", html`<p class="muted">Exporting ${job.total} record(s) as ${job.format}; the file is yours alone and is kept for an hour.</p>${progress(job)}`);
      },
    },
    {
      method: "GET",
      url: "/export/:id",
      need: "reviewer",
      async handler(req, reply, p) {
        const job = jobs.get((req.params as { id: string }).id, p.who.name);
        if (!job) {
          reply.code(404);
          return p.render("Export", errorBox("no such export of yours (they are kept for an hour)"));
        }
        return req.headers["hx-request"] ? progress(job) : p.render("Export", progress(job));
      },
    },
    {
      method: "GET",
      url: "/export/:id/download",
      need: "reviewer",
      async handler(req, reply, p) {
        const job = jobs.get((req.params as { id: string }).id, p.who.name);
        if (!job || job.state !== "ready") {
          reply.code(404);
          return p.render("Export", errorBox("no finished export of yours by that id"));
        }
        await p.audit("export-download", { id: job.id, format: job.format }, job.done);
        const name = `demarc-export-${new Date(job.createdAt).toISOString().slice(0, 19).replace(/:/g, "")}Z.${job.format}`;
        return reply.type(TYPES[job.format]).header("content-disposition", `attachment; filename="${name}"`).send(jobs.open(job));
      },
    },
  ];
}
