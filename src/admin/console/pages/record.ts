/**
 * A record's decision record: what crossed the edge, under which policy
 * version, every verdict the pipeline gave (enforced and shadow), the
 * stream's TLS version, authentication and certificate fingerprint, and what
 * became of it: for a held message the review and the release record; the
 * archive does not track delivery of other messages yet, which the page says.
 */
import { describeReview } from "../../../archive/quarantine.js";
import { releaseRecordOf } from "../../../archive/review-queries.js";
import { html, seg, type Html } from "../html.js";
import { errorBox, time } from "../layout.js";
import type { ConsoleRoute } from "../types.js";
import { conversationLink, verdictBadge } from "./records.js";
import { verdictList } from "../../../archive/export-text.js";

const fact = (label: string, value: Html) => html`<dt>${label}</dt><dd>${value ?? html`<span class="none">not recorded</span>`}</dd>`;

export const recordRoutes: ConsoleRoute[] = [
  {
    method: "GET",
    url: "/record/:seq",
    need: "reviewer",
    async handler(req, reply, p) {
      const raw = (req.params as { seq: string }).seq;
      const seq = /^\d{1,15}$/.test(raw) ? Number(raw) : 0;
      const r = seq ? await p.deps.store.get(seq) : undefined;
      await p.audit("read", { seq: raw }, r ? 1 : 0);
      if (!r) {
        reply.code(404);
        return p.render("Record", errorBox(`no archived record #${raw}`));
      }
      const verdicts = verdictList(r.verdicts);
      const review = r.verdict === "quarantine" ? await p.deps.store.reviewOf(r.seq) : undefined;
      const released = review?.decision === "released" ? await releaseRecordOf(p.deps.db, r.seq) : undefined;
      const origin = verdicts.find((v) => v.detail?.startsWith("released-from:"))?.detail?.slice("released-from:".length);
      const outcome: Html =
        r.verdict === "quarantine"
          ? review
            ? html`${describeReview(review)}${released ? html`; delivered as <a href="${`/console/record/${seg(released)}`}">#${released}</a>` : ""}`
            : "held, waiting for an officer's review"
          : r.verdict === "released"
            ? html`released by an officer${origin ? html` from the held record <a href="${`/console/record/${seg(origin)}`}">#${origin}</a>` : ""}; handed to delivery`
            : r.verdict === "block"
              ? "refused; the sender was told"
              : html`<span class="none">delivery outcome not tracked by the archive</span>`;
      const body = html`<dl class="facts">
${fact("Record", `#${r.seq} (${r.rid})`)}${fact("Time", time(r.ts))}${fact("Direction", r.direction)}${fact("Protocol", r.protocol)}
${fact("Kind", `${r.kind}${r.type ? ` (${r.type})` : ""}`)}${fact("From", html`<span class="from">${r.from}</span>`)}${fact("To", html`<span class="to">${r.to}</span>`)}
${fact("Partner domain", r.partner)}${fact("Thread", r.thread)}${fact("Subject", r.subject === null ? null : html`<span class="subject">${r.subject}</span>`)}
${fact("Body", r.body === null ? null : html`<span class="body">${r.body}</span>`)}${r.deliveredBody !== null ? fact("Body as delivered", r.deliveredBody) : ""}
${fact("Verdict", verdictBadge(r))}${fact("Delivery outcome", outcome)}${fact("Policy version", r.policyVersion)}
${fact("TLS version", r.tlsVersion)}${fact("Authentication", r.auth)}${fact("Certificate fingerprint", r.certFingerprint)}
${fact("Chain hash", r.hash.toString("hex"))}${r.purgeId !== null ? fact("Retention", `content purged (purge ${r.purgeId})`) : ""}
</dl>
<h2>Rules fired</h2>
<table><tr><th>Stage</th><th>Rule</th><th>Action</th><th>Shadow</th><th>Reason</th><th>Detail</th></tr>
${verdicts.map((v) => html`<tr><td>${v.stage}</td><td><code>${v.ruleId ?? ""}</code></td><td>${v.action}</td><td>${v.shadow ? "shadow (observed only)" : "enforced"}</td><td>${v.reason ?? ""}</td><td>${v.detail ?? ""}</td></tr>`)}
</table>${verdicts.length === 0 ? html`<p class="none">no rule fired</p>` : ""}
<p><a href="${conversationLink(r)}">Open the conversation around this message</a></p>`;
      return p.render(`Record #${r.seq}`, body);
    },
  },
];
