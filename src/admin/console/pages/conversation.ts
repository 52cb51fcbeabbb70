/**
 * A conversation between two people, or a person and a partner domain, over
 * a time range, oldest first as it was read, with each message's verdict;
 * not only by thread id, since many clients send none.
 */
import type { ArchiveQuery } from "../../../archive/store.js";
import { html, link, seg } from "../html.js";
import { errorBox, time } from "../layout.js";
import { fields, type ConsoleRoute } from "../types.js";
import { FilterError, parseTime } from "./filters.js";
import { verdictBadge } from "./records.js";

const PAGE = 200;

export const conversationRoutes: ConsoleRoute[] = [
  {
    method: "GET",
    url: "/conversation",
    need: "reviewer",
    async handler(req, reply, p) {
      const f = fields(req.query);
      const a = f.a?.trim().toLowerCase() ?? "";
      const b = f.b?.trim().toLowerCase() ?? "";
      const form = html`<form class="stack" method="get" action="/console/conversation">
<label>Person <input name="a" value="${a}" placeholder="alice@corp.example" required></label>
<label>With (person or partner domain) <input name="b" value="${b}" placeholder="carl@partner.example or partner.example" required></label>
<label>From (UTC) <input type="datetime-local" name="since" value="${f.since ?? ""}"></label>
<label>Until (UTC) <input type="datetime-local" name="until" value="${f.until ?? ""}"></label>
<button type="submit">Show</button></form>`;
      if (!a || !b) return p.render("Conversation", html`${form}<p class="muted">Name a person and who they talked with.</p>`);
      const q: ArchiveQuery = b.includes("@") ? { participant: a, peer: b } : { participant: a, domain: b };
      try {
        const since = parseTime(f.since, "from");
        const until = parseTime(f.until, "until");
        if (since !== undefined) q.since = since;
        if (until !== undefined) q.until = until;
      } catch (err) {
        if (!(err instanceof FilterError)) throw err;
        reply.code(400);
        return p.render("Conversation", html`${form}${errorBox(err.message)}`);
      }
      const after = f.after && /^\d{1,15}$/.test(f.after) ? Number(f.after) : 0;
      const rows = await p.deps.store.find(q, { afterSeq: after, limit: PAGE });
      await p.audit("conversation", q, rows.length);
      const last = rows[rows.length - 1];
      const more = rows.length === PAGE && last ? html`<div class="pager"><a href="${link("/console/conversation", { a, b, since: f.since, until: f.until, after: last.seq })}">Later messages</a></div>` : "";
      const msgs = rows.map(
        (r) => html`<div class="msg" data-seq="${r.seq}"><div class="meta">${time(r.ts)} · <span class="from">${r.from}</span> → <span class="to">${r.to}</span> · ${verdictBadge(r)} · <a href="${`/console/record/${seg(r.seq)}`}">#${r.seq}</a></div>
${r.subject ? html`<div class="subject"><strong>${r.subject}</strong></div>` : ""}<div class="text">${r.body ?? html`<span class="none">(no body)</span>`}</div></div>`,
      );
      return p.render(
        "Conversation",
        html`${form}<p class="muted">${rows.length} message(s) between ${a} and ${b}, oldest first.</p><div class="chat">${msgs}</div>${rows.length === 0 ? html`<p class="none">no messages in this range</p>` : ""}${more}`,
      );
    },
  },
];
