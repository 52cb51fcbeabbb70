/** How a record appears in lists: one table row, its verdict as a badge, links to its decision record and conversation. */
import { bareOf, domainOf } from "../../../model/envelope.js";
import { releasedBy } from "../../../archive/quarantine.js";
import type { StoredRecord } from "../../../archive/record.js";
import { html, link, seg, type SafeHtml } from "../html.js";
import { time } from "../layout.js";

export function verdictBadge(r: Pick<StoredRecord, "verdict" | "ruleId"> & Partial<StoredRecord>): SafeHtml {
  const by = r.verdicts !== undefined ? releasedBy(r as StoredRecord) : undefined;
  return html`<span class="verdict verdict-${r.verdict.replace(/[^a-z]/g, "")}">${r.verdict}</span>${r.ruleId ? html` <code>${r.ruleId}</code>` : ""}${by ? html` <span class="muted">by ${by}</span>` : ""}`;
}

/** Where "conversation" goes from a record: its two people, or the person and the partner's domain. */
export function conversationLink(r: StoredRecord): string {
  const [a, b] = r.direction === "inbound" ? [r.to, r.from] : [r.from, r.to];
  const other = bareOf(b);
  return link("/console/conversation", { a: bareOf(a), b: other.includes("@") ? other : domainOf(other), since: new Date(r.ts - 86_400_000).toISOString().slice(0, 16), until: new Date(r.ts + 86_400_000).toISOString().slice(0, 16) });
}

export const RECORD_HEAD = html`<tr><th>#</th><th>Time (UTC)</th><th>Direction</th><th>Kind</th><th>From</th><th>To</th><th>Subject</th><th>Body</th><th>Verdict</th><th></th></tr>`;

export function recordRow(r: StoredRecord): SafeHtml {
  return html`<tr data-seq="${r.seq}"><td><a href="${`/console/record/${seg(r.seq)}`}">${r.seq}</a></td><td>${time(r.ts)}</td><td>${r.direction}</td><td>${r.kind}</td>
<td class="from">${r.from}</td><td class="to">${r.to}</td><td class="subject">${r.subject ?? ""}</td><td class="body">${r.body ?? (r.purgeId !== null ? html`<span class="none">purged by retention</span>` : "")}</td>
<td>${verdictBadge(r)}</td><td><a href="${conversationLink(r)}">conversation</a></td></tr>`;
}
