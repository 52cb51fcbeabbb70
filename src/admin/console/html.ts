/**
 * Escaping by construction for the console's server-rendered pages.
 *
 * Every page is written with the `html` tag: the template's literal parts are
 * ours, and every ${value} placed in it is escaped unless it is itself the
 * result of `html` (a SafeHtml). Forgetting to escape is therefore not
 * possible, which a string-concatenating template or a "remember to call
 * escape()" rule cannot promise. This is the approach of lit-html's `html`
 * tag and of Python's markupsafe, in a few dozen lines and no dependency;
 * demarc has no template engine, and one would be more code to review than
 * this.
 *
 * Rules the templates keep (checked by the XSS corpus browser test): values
 * go only into element text and into double-quoted attribute values, never
 * into a tag or attribute name, a script, a style or the start of a URL (every
 * href is built by `link`, which starts with "/console/").
 */

const SAFE = Symbol("safe-html");

export interface SafeHtml {
  readonly [SAFE]: true;
  readonly text: string;
}

export type Html = SafeHtml | string | number | boolean | null | undefined | Html[];

const ENTITIES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;", "`": "&#96;" };

export function escape(s: string): string {
  return s.replace(/[&<>"'`]/g, (c) => ENTITIES[c]!);
}

function isSafe(v: unknown): v is SafeHtml {
  return typeof v === "object" && v !== null && (v as SafeHtml)[SAFE] === true;
}

function render(v: Html): string {
  if (v === null || v === undefined || v === false) return "";
  if (Array.isArray(v)) return v.map(render).join("");
  if (isSafe(v)) return v.text;
  return escape(String(v));
}

function safe(text: string): SafeHtml {
  return { [SAFE]: true, text };
}

export function html(strings: TemplateStringsArray, ...values: Html[]): SafeHtml {
  let out = strings[0]!;
  for (let i = 0; i < values.length; i++) out += render(values[i]!) + strings[i + 1]!;
  return safe(out);
}

/** A console URL: a fixed path under /console/ and query values encoded, so no value can choose the scheme or host. */
export function link(path: string, params: Record<string, string | number | undefined | null> = {}): string {
  if (!path.startsWith("/console/")) throw new Error(`console links stay in the console: ${path}`);
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== "") q.set(k, String(v));
  const qs = q.toString();
  return qs ? `${path}?${qs}` : path;
}

/** One path segment, encoded (addresses, names). */
export const seg = (s: string | number) => encodeURIComponent(String(s));

export function toText(h: SafeHtml): string {
  return h.text;
}
