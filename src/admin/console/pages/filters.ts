/**
 * The archive filters as a form and as an ArchiveQuery: every filter the
 * archive has (participant, partner domain, direction, kind, verdict, rule
 * enforced or shadow, time range, words and phrases). Times are
 * UTC, as the archive keeps them.
 */
import type { FastifyReply } from "fastify";
import type { ArchiveQuery } from "../../../archive/store.js";
import { html, type SafeHtml } from "../html.js";
import type { Fields } from "../types.js";

export const FILTER_KEYS = ["participant", "domain", "direction", "kind", "verdict", "rule", "since", "until", "text"] as const;

const DIRECTIONS = ["inbound", "outbound", "internal"];
const KINDS = ["message", "groupchat", "subscription", "file-transfer", "presence", "iq"];
const VERDICTS = ["allow", "block", "quarantine", "released"];

export class FilterError extends Error {
  readonly statusCode = 400;
}

/** "2026-03-01", "2026-03-01T12:00" (a datetime-local field) or full ISO 8601; without an offset it is UTC. */
export function parseTime(v: string | undefined, label: string): number | undefined {
  if (!v) return undefined;
  const iso = /^\d{4}-\d{2}-\d{2}$/.test(v) ? `${v}T00:00:00Z` : /[zZ]|[+-]\d{2}:?\d{2}$/.test(v) ? v : `${v}Z`;
  const t = Date.parse(iso);
  if (Number.isNaN(t)) throw new FilterError(`${label} "${v}" is not a date or time (e.g. 2026-03-01 or 2026-03-01T12:00)`);
  return t;
}

function oneOf(v: string | undefined, list: string[], label: string): string | undefined {
  if (!v) return undefined;
  if (!list.includes(v)) throw new FilterError(`${label} must be one of ${list.join(", ")}`);
  return v;
}

const trimmed = (v: string | undefined, max = 1023) => {
  const t = v?.trim();
  if (t && t.length > max) throw new FilterError(`a filter is limited to ${max} characters`);
  return t || undefined;
};

export function queryOf(f: Fields): ArchiveQuery {
  const q: ArchiveQuery = {};
  const set = <K extends keyof ArchiveQuery>(k: K, v: ArchiveQuery[K]) => v !== undefined && (q[k] = v);
  set("participant", trimmed(f.participant)?.toLowerCase());
  set("domain", trimmed(f.domain, 255)?.toLowerCase());
  set("direction", oneOf(f.direction, DIRECTIONS, "direction"));
  set("kind", oneOf(f.kind, KINDS, "kind"));
  set("verdict", oneOf(f.verdict, VERDICTS, "verdict"));
  const rule = trimmed(f.rule, 128);
  set("rule", rule);
  set("since", parseTime(f.since, "from"));
  set("until", parseTime(f.until, "until"));
  set("text", trimmed(f.text));
  return q;
}

/**
 * The filters as a query or, when one is not valid, the refusal page with a
 * 400: the search and export pages refuse bad filters the same way.
 */
export function queryOrRefusal(f: Fields, reply: FastifyReply, refusal: (message: string) => SafeHtml): { query: ArchiveQuery } | { page: SafeHtml } {
  try {
    return { query: queryOf(f) };
  } catch (err) {
    if (!(err instanceof FilterError)) throw err;
    reply.code(400);
    return { page: refusal(err.message) };
  }
}

/** The filter values to carry in links and hidden fields. */
export function filterParams(f: Fields): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of FILTER_KEYS) if (f[k]) out[k] = f[k]!;
  return out;
}

function select(name: string, label: string, list: string[], value: string | undefined): SafeHtml {
  return html`<label>${label}<select name="${name}"><option value="">any</option>${list.map((v) => html`<option value="${v}"${v === value ? html` selected` : ""}>${v}</option>`)}</select></label>`;
}

export function filterForm(action: string, f: Fields): SafeHtml {
  const input = (name: string, label: string, type = "text", placeholder = "") =>
    html`<label>${label}<input type="${type}" name="${name}" value="${f[name] ?? ""}" placeholder="${placeholder}"></label>`;
  return html`<form class="filters" method="get" action="${action}">
${input("participant", "Participant (bare address)", "text", "alice@corp.example")}
${input("domain", "Partner domain", "text", "partner.example")}
${select("direction", "Direction", DIRECTIONS, f.direction)}
${select("kind", "Kind", KINDS, f.kind)}
${select("verdict", "Verdict", VERDICTS, f.verdict)}
${input("rule", "Rule id (enforced or shadow)")}
${input("since", "From (UTC)", "datetime-local")}
${input("until", "Until (UTC)", "datetime-local")}
${input("text", "Words and \"phrases\"")}
<div><button type="submit">Search</button></div></form>`;
}
