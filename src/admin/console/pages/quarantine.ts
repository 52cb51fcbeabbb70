/**
 * The quarantine queue: each held message with the rule and reason that held
 * it; an officer releases (delivers) or rejects it with a comment. With
 * admin.console.four_eyes on, the first officer's decision is a request and
 * a second officer confirms or declines it. Buttons post through htmx and the
 * row is replaced by the outcome; without script the forms still work.
 */
import type { FastifyReply, FastifyRequest } from "fastify";
import type { StoredRecord } from "../../../archive/record.js";
import { pendingItem, type ReviewOutcome } from "../../../archive/quarantine.js";
import { Approvals, type Approval } from "../../../officers/four-eyes.js";
import { html, seg, type SafeHtml } from "../html.js";
import { errorBox, time } from "../layout.js";
import { fields, type ConsoleRoute, type Page } from "../types.js";
import { notice } from "../notice.js";

const PAGE = 100;

function actions(r: StoredRecord, p: Page, pending: Approval | undefined): SafeHtml {
  const base = `/console/quarantine/${seg(r.seq)}`;
  const button = (verb: string, label: string, cls = "") =>
    html`<button type="submit" class="${cls}" formaction="${`${base}/${verb}`}" hx-post="${`${base}/${verb}`}" hx-target="closest tr" hx-swap="outerHTML">${label}</button>`;
  if (pending) {
    const mine = pending.requestedBy === p.who.name;
    return html`<p class="muted">${pending.decision} requested by ${pending.requestedBy} ${time(pending.requestedAt)}${pending.comment ? html`: “${pending.comment}”` : ""}</p>
${mine ? html`<p class="muted">waiting for a second officer</p>` : html`<form method="post"><input type="hidden" name="_csrf" value="${p.session.csrf}">${button("confirm", `Confirm ${pending.decision}`)} ${button("decline", "Decline", "secondary")}</form>`}`;
  }
  return html`<form method="post"><input type="hidden" name="_csrf" value="${p.session.csrf}">
<label>Comment <input name="comment" maxlength="4000"></label> ${button("release", "Release")} ${button("reject", "Reject", "danger")}</form>`;
}

function row(r: StoredRecord, p: Page, pending: Approval | undefined): SafeHtml {
  const item = pendingItem(r);
  return html`<tr data-seq="${r.seq}"><td><a href="${`/console/record/${seg(r.seq)}`}">${r.seq}</a></td><td>${time(r.ts)}</td><td class="from">${r.from}</td><td class="to">${r.to}</td>
<td class="subject">${r.subject ?? ""}</td><td class="body">${item.deliveredBody ?? r.body ?? ""}</td><td><code>${item.rule ?? ""}</code><br>${item.reason ?? ""}</td><td>${actions(r, p, pending)}</td></tr>`;
}

type Shown = ReviewOutcome | { status: "requested" | "declined" | "waiting"; message: string };

function outcomeRow(seq: number, o: Shown): SafeHtml {
  const text =
    o.status === "released" ? `released by ${o.review.actor}: delivered to ${o.envelope.to}`
    : o.status === "rejected" ? `rejected by ${o.review.actor}: it will not be delivered`
    : o.message;
  const ok = ["released", "rejected", "requested", "declined"].includes(o.status);
  return html`<tr data-seq="${seq}" class="${`outcome outcome-${o.status}`}"><td>${seq}</td><td colspan="7">${ok ? notice(text) : errorBox(text)}</td></tr>`;
}

/** htmx swaps the row; a plain form post (no script) gets a page with the outcome. */
function answer(req: FastifyRequest, p: Page, seq: number, o: Shown): SafeHtml {
  const r = outcomeRow(seq, o);
  return req.headers["hx-request"] ? r : p.render("Quarantine", html`<table>${r}</table><p><a href="/console/quarantine">Back to the queue</a></p>`);
}

function seqOf(req: FastifyRequest): number {
  const raw = (req.params as { seq: string }).seq;
  if (!/^[1-9]\d{0,14}$/.test(raw)) throw Object.assign(new Error("not a record number"), { statusCode: 400 });
  return Number(raw);
}

async function decide(p: Page, seq: number, verb: "release" | "reject", comment: string | null, requestedBy?: string): Promise<ReviewOutcome> {
  const desk = p.deps.desk;
  if (!desk) throw new Error("the archive module is not running");
  const note = requestedBy ? `${comment ? `${comment} ` : ""}(requested by ${requestedBy}, confirmed by ${p.who.name})` : comment;
  return verb === "release" ? desk.release({ seq, actor: p.who.name, comment: note }) : desk.reject({ seq, actor: p.who.name, comment: note });
}

/** A decision made: 502 when its delivery failed, 409 when it could not be made (already decided, purged...). */
function decided(req: FastifyRequest, reply: FastifyReply, p: Page, seq: number, o: ReviewOutcome): SafeHtml {
  if (!["released", "rejected"].includes(o.status)) reply.code(o.status === "failed" ? 502 : 409);
  return answer(req, p, seq, o);
}

export const quarantineRoutes: ConsoleRoute[] = [
  {
    method: "GET",
    url: "/quarantine",
    need: "officer",
    async handler(req, _reply, p) {
      if (!p.deps.desk) return p.render("Quarantine", errorBox("the archive module is not running in this gateway"));
      const f = fields(req.query);
      const after = f.after && /^\d{1,15}$/.test(f.after) ? Number(f.after) : 0;
      const rows = await p.deps.desk.pending(p.who.name, { afterSeq: after, limit: PAGE });
      const pending = await new Approvals(p.deps.db).forRecords(rows.map((r) => r.seq));
      const fourEyes = p.deps.config().admin.console.four_eyes;
      return p.render(
        "Quarantine",
        html`<p class="muted">${rows.length} held message(s) waiting for review, oldest first.${fourEyes ? " Four-eyes is on: a second officer confirms each decision." : ""}</p>
<table id="queue"><tr><th>#</th><th>Held since</th><th>From</th><th>To</th><th>Subject</th><th>Body (as it would be delivered)</th><th>Rule and reason</th><th>Decision</th></tr>
${rows.map((r) => row(r, p, pending.get(r.seq)))}</table>${rows.length === 0 ? html`<p class="none">nothing is waiting</p>` : ""}
${rows.length === PAGE ? html`<div class="pager"><a href="${`/console/quarantine?after=${rows[rows.length - 1]!.seq}`}">More</a></div>` : ""}`,
      );
    },
  },
  ...(["release", "reject"] as const).map(
    (verb): ConsoleRoute => ({
      method: "POST",
      url: `/quarantine/:seq/${verb}`,
      need: "officer",
      async handler(req, reply, p) {
        const seq = seqOf(req);
        const comment = fields(req.body).comment?.slice(0, 4000) || null;
        if (p.deps.config().admin.console.four_eyes) {
          const requested = await new Approvals(p.deps.db).request({ seq, decision: verb, comment, requestedBy: p.who.name, requestedAt: Date.now() });
          await p.audit(`quarantine-${verb}-requested`, { id: seq, comment }, requested ? 1 : 0);
          const message = requested ? `${verb} requested by ${p.who.name}; a second officer must confirm it` : `a decision on #${seq} is already waiting for confirmation`;
          return answer(req, p, seq, { status: requested ? "requested" : "waiting", message });
        }
        return decided(req, reply, p, seq, await decide(p, seq, verb, comment));
      },
    }),
  ),
  {
    method: "POST",
    url: "/quarantine/:seq/confirm",
    need: "officer",
    async handler(req, reply, p) {
      const seq = seqOf(req);
      const approvals = new Approvals(p.deps.db);
      const a = await approvals.get(seq);
      if (!a) return answer(req, p, seq, { status: "unknown", message: `no decision on #${seq} is waiting for confirmation` });
      if (a.requestedBy === p.who.name) {
        reply.code(403);
        return answer(req, p, seq, { status: "unknown", message: "four-eyes: the officer who asked cannot confirm their own request" });
      }
      if (!(await approvals.take(seq))) return answer(req, p, seq, { status: "unknown", message: `another officer already answered the request on #${seq}` });
      return decided(req, reply, p, seq, await decide(p, seq, a.decision, a.comment, a.requestedBy));
    },
  },
  {
    method: "POST",
    url: "/quarantine/:seq/decline",
    need: "officer",
    async handler(req, _reply, p) {
      const seq = seqOf(req);
      const approvals = new Approvals(p.deps.db);
      const a = await approvals.get(seq);
      const taken = a && a.requestedBy !== p.who.name ? await approvals.take(seq) : false;
      await p.audit("quarantine-request-declined", { id: seq, requestedBy: a?.requestedBy ?? null }, taken ? 1 : 0);
      return answer(req, p, seq, taken ? { status: "declined", message: `${a!.decision} declined by ${p.who.name}; the message stays held` } : { status: "unknown", message: `no request by another officer on #${seq} to decline` });
    },
  },
];
