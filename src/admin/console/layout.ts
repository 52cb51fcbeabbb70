/** The console's page frame: navigation for the officer's role, who is logged in, and the CSRF token htmx sends. */
import { allows, type Principal, type Role } from "../../officers/roles.js";
import { html, type Html, type SafeHtml } from "./html.js";

const NAV: [string, string, Role][] = [
  ["/console/search", "Search", "reviewer"],
  ["/console/conversation", "Conversation", "reviewer"],
  ["/console/quarantine", "Quarantine", "officer"],
  ["/console/holds", "Legal holds", "officer"],
  ["/console/audit", "Audit log", "officer"],
  ["/console/policy", "Policy", "officer"],
  ["/console/partners", "Partners", "officer"],
  ["/console/officers", "Accounts", "admin"],
  ["/console/retention", "Retention", "admin"],
];

function head(title: string): SafeHtml {
  // htmx is told not to add its own inline style or evaluate code, which the Content-Security-Policy would refuse anyway.
  return html`<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="htmx-config" content='{"includeIndicatorStyles":false,"allowEval":false,"allowScriptTags":false,"selfRequestsOnly":true}'>
<title>${title} · demarc review console</title>
<link rel="stylesheet" href="/console/assets/console.css"><link rel="icon" href="/console/assets/icon.svg" type="image/svg+xml">
<script src="/console/assets/htmx.min.js" defer></script></head>`;
}

export function page(title: string, who: Principal | undefined, csrf: string | undefined, body: Html): SafeHtml {
  const nav = who
    ? html`<nav>${NAV.filter(([, , need]) => allows(who.role, need)).map(([href, label]) => html`<a href="${href}">${label}</a>`)}</nav>
<form class="whoami" method="post" action="/console/logout"><input type="hidden" name="_csrf" value="${csrf}"><span>${who.name} (${who.role})</span> <button type="submit">Log out</button></form>`
    : "";
  const headers = csrf ? JSON.stringify({ "x-csrf-token": csrf }) : undefined;
  return html`<!doctype html><html lang="en">${head(title)}<body hx-headers="${headers}">
<header><span class="brand">demarc review console</span>${nav}</header>
<main><h1>${title}</h1>${body}</main></body></html>`;
}

export function errorBox(message: string): SafeHtml {
  return html`<p class="error" role="alert">${message}</p>`;
}

export function time(ms: number | null | undefined): SafeHtml {
  if (ms === null || ms === undefined) return html`<span class="none">never</span>`;
  const iso = new Date(ms).toISOString();
  return html`<time datetime="${iso}">${iso.replace("T", " ").replace(/\.\d+Z$/, "Z")}</time>`;
}
