/**
 * The console's static files: its style sheet, and htmx from the installed
 * htmx.org package (no CDN at run time). Both are read once at start.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);

export function htmxSource(): Buffer {
  return readFileSync(require.resolve("htmx.org/dist/htmx.min.js"));
}

/** A plain mark, so browsers do not ask for /favicon.ico. */
export const ICON = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><rect width="16" height="16" rx="3" fill="#18212f"/><path d="M4 4h4a4 4 0 0 1 0 8H4z" fill="#cfe0ff"/></svg>`;

export const CSS = `
:root { --ink: #1d2330; --muted: #5b6475; --line: #d9dde5; --accent: #1f5fbf; --bad: #b3261e; --warn: #9a6700; --ok: #1a7f37; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, sans-serif; color: var(--ink); background: #f6f7f9; }
header { display: flex; flex-wrap: wrap; align-items: center; gap: 16px; padding: 10px 20px; background: #18212f; color: #fff; }
header a { color: #cfe0ff; text-decoration: none; margin-right: 12px; }
header a:hover { text-decoration: underline; }
.brand { font-weight: 600; margin-right: 12px; }
.whoami { margin-left: auto; display: flex; gap: 8px; align-items: center; }
main { padding: 16px 20px 40px; max-width: 1400px; }
h1 { font-size: 20px; margin: 4px 0 14px; }
h2 { font-size: 16px; margin: 22px 0 8px; }
table { border-collapse: collapse; width: 100%; background: #fff; border: 1px solid var(--line); }
th, td { text-align: left; padding: 6px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { background: #eef1f5; font-weight: 600; }
td.body { white-space: pre-wrap; word-break: break-word; max-width: 520px; }
form.filters { display: grid; grid-template-columns: repeat(auto-fill, minmax(200px, 1fr)); gap: 8px 14px; background: #fff; padding: 12px; border: 1px solid var(--line); margin-bottom: 12px; }
form.filters label, form.stack label { display: flex; flex-direction: column; font-size: 12px; color: var(--muted); }
form.stack { display: flex; flex-wrap: wrap; gap: 8px 14px; align-items: end; background: #fff; padding: 12px; border: 1px solid var(--line); margin-bottom: 12px; }
input, select, textarea { font: inherit; padding: 4px 6px; border: 1px solid #b8bfcc; border-radius: 3px; color: var(--ink); }
button { font: inherit; padding: 4px 12px; border: 1px solid var(--accent); background: var(--accent); color: #fff; border-radius: 3px; cursor: pointer; }
button.secondary { background: #fff; color: var(--accent); }
button.danger { background: var(--bad); border-color: var(--bad); }
.verdict { display: inline-block; padding: 0 6px; border-radius: 3px; font-size: 12px; border: 1px solid var(--line); }
.verdict-allow { color: var(--ok); } .verdict-block { color: var(--bad); } .verdict-quarantine { color: var(--warn); } .verdict-released { color: var(--accent); }
.error { color: var(--bad); font-weight: 600; }
.notice { color: var(--ok); font-weight: 600; }
.none, .muted { color: var(--muted); }
.pager { margin: 10px 0; display: flex; gap: 14px; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 4px 14px; background: #fff; padding: 12px; border: 1px solid var(--line); }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; word-break: break-all; }
.chat { background: #fff; border: 1px solid var(--line); padding: 8px 12px; }
.chat .msg { padding: 6px 0; border-bottom: 1px dashed var(--line); }
.chat .meta { color: var(--muted); font-size: 12px; }
.chat .text { white-space: pre-wrap; word-break: break-word; }
.login { max-width: 360px; margin: 60px auto; background: #fff; padding: 20px; border: 1px solid var(--line); }
.login label { display: flex; flex-direction: column; margin-bottom: 10px; font-size: 12px; color: var(--muted); }
progress { width: 320px; }
`;
