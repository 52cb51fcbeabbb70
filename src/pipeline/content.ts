/**
 * The seam between the content model (src/model/content.ts) and compliance:
 * every human-readable part of an envelope as a flat list that stages read,
 * and one way to rewrite parts (redaction) that keeps the model consistent.
 */
import type { Envelope } from "../model/envelope.js";
import type { XNode, Xhtml } from "../model/content.js";
import { mapTree, renderedText, treeParts, type TreePart } from "../model/xnode.js";

export const NS_XHTML_IM = "http://jabber.org/protocol/xhtml-im";
export const NS_XHTML = "http://www.w3.org/1999/xhtml";

export type PartKind =
  | "body"
  | "subject"
  | "thread"
  | "status"
  | "nick"
  | "xhtml"
  | "xhtml-attr"
  | "link-url"
  | "link-desc"
  | "file-name"
  | "file-desc"
  | "file-type"
  | "file-url"
  | "invite-reason"
  | "invite-password"
  | "error-text"
  | "id"
  | "signal"
  | "extension"
  | "payload";

export interface ContentPart {
  kind: PartKind;
  /** Where in the envelope: "body", "links.0.desc", "extensions.1/0@href", ... */
  path: string;
  text: string;
}

/** Returns new text for a part, or undefined to leave it as it is. */
export type PartMapper = (text: string, part: ContentPart) => string | undefined;

/** Tree parts inside known payloads (Jingle file offers, jabber:iq:oob) get the kind of what they say. */
function treeKind(base: PartKind, p: TreePart): PartKind {
  const el = p.elements[p.elements.length - 1]!;
  if (p.at !== "text") return base;
  if (p.elements.some((e) => e.ns?.startsWith("urn:xmpp:jingle:apps:file-transfer:"))) {
    if (el.name === "name") return "file-name";
    if (el.name === "desc") return "file-desc";
  }
  if (p.elements[0]?.ns === "jabber:iq:oob") {
    if (el.name === "url") return "link-url";
    if (el.name === "desc") return "link-desc";
  }
  return base;
}

const TREES = [
  ["signals", "signal"],
  ["extensions", "extension"],
  ["payload", "payload"],
] as const;

function add(out: ContentPart[], kind: PartKind, path: string, text: string | undefined): void {
  if (text !== undefined) out.push({ kind, path, text });
}

/** Every human-readable part, in a stable order (the body first). */
export function contentParts(env: Envelope): ContentPart[] {
  const out: ContentPart[] = [];
  add(out, "body", "body", env.body);
  add(out, "subject", "subject", env.subject);
  add(out, "thread", "thread", env.thread);
  add(out, "status", "status", env.presence?.note);
  add(out, "nick", "nick", env.nick);
  // Ids travel to the recipient as written, so text hidden in one is read like any other.
  add(out, "id", "id", stanzaId(env));
  add(out, "id", "replaces", env.replaces);
  if (env.xhtml) {
    add(out, "xhtml", "xhtml", renderedText(env.xhtml.markup));
    // Attribute values (link targets, alt text, styles) are read too, and the names of elements outside XEP-0071.
    for (const p of treeParts(env.xhtml.markup)) if (p.at === "attr" || (p.at === "name" && !xhtmlProfile(p))) add(out, "xhtml-attr", `xhtml${p.path}`, p.text);
  }
  env.links?.forEach((l, i) => {
    add(out, "link-url", `links.${i}.url`, l.url);
    add(out, "link-desc", `links.${i}.desc`, l.desc);
  });
  env.files?.forEach((f, i) => {
    add(out, "file-name", `files.${i}.name`, f.name);
    add(out, "file-desc", `files.${i}.desc`, f.desc);
    add(out, "file-type", `files.${i}.mediaType`, f.mediaType);
    f.urls?.forEach((u, j) => add(out, "file-url", `files.${i}.urls.${j}`, u));
  });
  env.invites?.forEach((v, i) => {
    add(out, "invite-reason", `invites.${i}.reason`, v.reason);
    add(out, "invite-password", `invites.${i}.password`, v.password);
    add(out, "thread", `invites.${i}.thread`, v.thread);
  });
  add(out, "error-text", "error.text", env.error?.text);
  if (env.signals || env.extensions || env.payload) addTrees(out, env);
  return out;
}

function addTrees(out: ContentPart[], env: Envelope): void {
  for (const [field, kind] of TREES) {
    env[field]?.forEach((t, i) => {
      for (const p of treeParts(t)) if (p.at !== "name" || field === "extensions") add(out, treeKind(kind, p), `${field}.${i}${p.path}`, p.text);
    });
  }
}

const STANZA_ID = "stanza-id:";

/** The id the sender gave the stanza, which the edges keep as a tag. */
function stanzaId(env: Envelope): string | undefined {
  const tags = env.tags;
  if (tags) for (const t of tags) if (t.startsWith(STANZA_ID)) return t.slice(STANZA_ID.length);
  return undefined;
}

/** One part's path and kind to one mapper call; unchanged text counts as unchanged. */
function call(fn: PartMapper, kind: PartKind, path: string, text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  const r = fn(text, { kind, path, text });
  return r === text ? undefined : r;
}

/** XEP-0071 section 7's recommended elements, in the XHTML-IM or XHTML namespace: their names are markup, not content. */
const XHTML_ELEMENTS = new Set(["html", "body", "a", "blockquote", "br", "cite", "code", "em", "img", "li", "ol", "p", "span", "strong", "ul"]);

function xhtmlProfile(p: TreePart): boolean {
  const el = p.elements[p.elements.length - 1]!;
  const ns = [...p.elements].reverse().find((e) => e.ns !== undefined)?.ns;
  return XHTML_ELEMENTS.has(el.name) && (ns === NS_XHTML || ns === NS_XHTML_IM);
}

/** XEP-0071 markup re-rendered from plain text: one paragraph, lines as <br/>. */
export function xhtmlFromText(text: string): Xhtml {
  const children: (XNode | string)[] = [];
  text.split("\n").forEach((line, i) => {
    if (i > 0) children.push({ name: "br", attrs: {}, children: [] });
    if (line) children.push(line);
  });
  return { markup: { name: "html", ns: NS_XHTML_IM, attrs: {}, children: [{ name: "body", ns: NS_XHTML, attrs: {}, children }] } };
}

/** A paragraph added to XHTML-IM markup (a disclaimer a client showing the XHTML form would otherwise not see). */
export function withXhtmlParagraph(x: Xhtml, text: string, position: "append" | "prepend"): Xhtml {
  const p: XNode = { name: "p", attrs: {}, children: [text] };
  const bodies = x.markup.children.filter((c): c is XNode => typeof c !== "string" && c.name === "body");
  const children = x.markup.children.map((c) =>
    typeof c !== "string" && c === bodies[0] ? { ...c, children: position === "prepend" ? [p, ...c.children] : [...c.children, p] } : c,
  );
  return bodies.length ? { markup: { ...x.markup, children } } : x;
}

/** Total UTF-8 size of every part: what a size limit measures. */
export function contentBytes(env: Envelope): number {
  let n = 0;
  for (const p of contentParts(env)) n += Buffer.byteLength(p.text);
  return n;
}

function mapXhtml(x: Xhtml, fn: PartMapper): Xhtml | undefined {
  const text = renderedText(x.markup);
  const newText = call(fn, "xhtml", "xhtml", text);
  let attrChanged = false;
  for (const p of treeParts(x.markup)) {
    if ((p.at === "attr" || (p.at === "name" && !xhtmlProfile(p))) && call(fn, "xhtml-attr", `xhtml${p.path}`, p.text) !== undefined) attrChanged = true;
  }
  // Redacted markup is not patched node by node (a word may span elements): it is rendered again from the text.
  return newText === undefined && !attrChanged ? x : xhtmlFromText(newText ?? text);
}

function mapTrees(list: XNode[] | undefined, field: string, kind: PartKind, fn: PartMapper): XNode[] | undefined {
  if (!list) return undefined;
  // Only an extension's names are parts: a signal's or an IQ payload's are the protocol's own.
  const names = field === "extensions";
  const out = list
    .map((t, i) => mapTree(t, (p) => (p.at === "name" && !names ? undefined : call(fn, treeKind(kind, p), `${field}.${i}${p.path}`, p.text))))
    .filter((t): t is XNode => t !== undefined);
  return out.length ? out : undefined;
}

/** The envelope with every part `fn` rewrote replaced; untouched parts (and the envelope, if none) stay as they are. */
export function mapContent(env: Envelope, fn: PartMapper): Envelope {
  const out: Envelope = { ...env };
  const set = <K extends "body" | "subject" | "thread" | "nick">(k: K, kind: PartKind) => {
    const v = call(fn, kind, k, env[k]);
    if (v !== undefined) out[k] = v;
  };
  set("body", "body");
  set("subject", "subject");
  set("thread", "thread");
  set("nick", "nick");
  const replaces = call(fn, "id", "replaces", env.replaces);
  if (replaces !== undefined) out.replaces = replaces;
  const id = call(fn, "id", "id", stanzaId(env));
  if (id !== undefined) out.tags = env.tags!.map((t) => (t.startsWith(STANZA_ID) ? STANZA_ID + id : t));
  const note = call(fn, "status", "status", env.presence?.note);
  if (note !== undefined) out.presence = { ...env.presence!, note };
  if (env.xhtml) out.xhtml = mapXhtml(env.xhtml, fn);
  if (env.links) {
    out.links = env.links.map((l, i) => ({ url: call(fn, "link-url", `links.${i}.url`, l.url) ?? l.url, desc: call(fn, "link-desc", `links.${i}.desc`, l.desc) ?? l.desc }));
  }
  if (env.files) {
    out.files = env.files.map((f, i) => ({
      ...f,
      name: call(fn, "file-name", `files.${i}.name`, f.name) ?? f.name,
      desc: call(fn, "file-desc", `files.${i}.desc`, f.desc) ?? f.desc,
      mediaType: call(fn, "file-type", `files.${i}.mediaType`, f.mediaType) ?? f.mediaType,
      urls: f.urls?.map((u, j) => call(fn, "file-url", `files.${i}.urls.${j}`, u) ?? u),
    }));
  }
  if (env.invites) {
    out.invites = env.invites.map((v, i) => ({
      ...v,
      reason: call(fn, "invite-reason", `invites.${i}.reason`, v.reason) ?? v.reason,
      password: call(fn, "invite-password", `invites.${i}.password`, v.password) ?? v.password,
      thread: call(fn, "thread", `invites.${i}.thread`, v.thread) ?? v.thread,
    }));
  }
  const errText = call(fn, "error-text", "error.text", env.error?.text);
  if (errText !== undefined) out.error = { ...env.error!, text: errText };
  for (const [field, kind] of TREES) if (env[field]) out[field] = mapTrees(env[field], field, kind, fn);
  return out;
}

export { matchable, toMatchable, toOriginalSpans, type Matchable } from "./matchable.js";

/** The body of a message, or the status of a presence: what disclaimers and sample reports speak of. */
export function contentOf(env: Envelope): string | undefined {
  return env.kind === "presence" ? env.presence?.note : env.body;
}

export function withContent(env: Envelope, text: string): Envelope {
  if (env.kind === "presence") return env.presence ? { ...env, presence: { ...env.presence, note: text } } : env;
  return { ...env, body: text };
}
