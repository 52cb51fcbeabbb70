/**
 * Typed content -> stanza children, for s2s and c2s alike: the wire form is
 * made here from what compliance decided (src/model/content.ts). Children
 * without a namespace inherit the stanza's (jabber:server or jabber:client).
 */
import type { XNode } from "../model/content.js";
import type { Envelope } from "../model/envelope.js";
import { NS_STANZA_ERRORS } from "./errors.js";
import {
  NS_CONFERENCE, NS_CORRECT, NS_FILE_META, NS_HASHES, NS_MUC_USER, NS_NICK, NS_OOB, NS_SFS, NS_URL_DATA,
} from "./content-read.js";
import { xml, type Element } from "./xml.js";

export function fromXNode(n: XNode): Element {
  return xml(n.name, { xmlns: n.ns, ...n.attrs }, ...n.children.map((c) => (typeof c === "string" ? c : fromXNode(c))));
}

const text = (name: string, value: string | undefined, attrs: Record<string, string | undefined> = {}) =>
  value === undefined ? undefined : xml(name, attrs, value);

/** RFC 6120 section 8.3.2: <error type><condition/><text/></error>; undefined-condition when none is known. */
export function errorElement(e: Envelope): Element | undefined {
  if (e.type !== "error") return undefined;
  const err = e.error ?? { type: "cancel", condition: "undefined-condition" };
  return xml(
    "error",
    { type: err.type, by: err.by },
    xml(err.condition, { xmlns: NS_STANZA_ERRORS }),
    err.text !== undefined ? xml("text", { xmlns: NS_STANZA_ERRORS }, err.text) : undefined,
  );
}

function files(e: Envelope): Element[] {
  return (e.files ?? []).map((f) =>
    xml(
      "file-sharing",
      { xmlns: NS_SFS, disposition: f.disposition },
      xml(
        "file",
        { xmlns: NS_FILE_META },
        text("media-type", f.mediaType),
        text("name", f.name),
        text("desc", f.desc),
        f.size !== undefined ? xml("size", {}, String(f.size)) : undefined,
        ...(f.hashes ?? []).map((h) => xml("hash", { xmlns: NS_HASHES, algo: h.algo }, h.value)),
      ),
      f.urls?.length ? xml("sources", {}, ...f.urls.map((u) => xml("url-data", { xmlns: NS_URL_DATA, target: u }))) : undefined,
    ),
  );
}

function invites(e: Envelope): Element[] {
  return (e.invites ?? []).map((v) =>
    v.via === "direct"
      ? xml("x", { xmlns: NS_CONFERENCE, jid: v.room, reason: v.reason, password: v.password, thread: v.thread, continue: v.continue ? "true" : undefined })
      : xml("x", { xmlns: NS_MUC_USER }, xml("invite", { to: v.to, from: v.from }, text("reason", v.reason)), text("password", v.password)),
  );
}

/** What follows the stanza's own children: nickname, signals and the extensions policy let pass. */
function tail(e: Envelope, out: Element[]): Element[] {
  if (e.nick !== undefined) out.push(xml("nick", { xmlns: NS_NICK }, e.nick));
  if (e.signals) for (const n of e.signals) out.push(fromXNode(n));
  if (e.extensions) for (const n of e.extensions) out.push(fromXNode(n));
  return out;
}

function withError(e: Envelope, out: Element[]): Element[] {
  const err = errorElement(e);
  if (err) out.push(err);
  return out;
}

/**
 * The children of a message, in the order RFC 6121 and the XEPs show them.
 * Built by appending to one array: every delivered message comes through here.
 */
export function messageChildren(e: Envelope): Element[] {
  const out: Element[] = [];
  if (e.subject !== undefined) out.push(xml("subject", {}, e.subject));
  if (e.body !== undefined) out.push(xml("body", {}, e.body));
  if (e.thread !== undefined) out.push(xml("thread", {}, e.thread));
  if (e.xhtml) out.push(fromXNode(e.xhtml.markup));
  if (e.links) for (const l of e.links) out.push(xml("x", { xmlns: NS_OOB }, xml("url", {}, l.url), text("desc", l.desc)));
  if (e.files) out.push(...files(e));
  if (e.invites) out.push(...invites(e));
  if (e.replaces !== undefined) out.push(xml("replace", { xmlns: NS_CORRECT, id: e.replaces }));
  return withError(e, tail(e, out));
}

/** Presence children besides show/status/priority, which the presence mapping renders. */
export function presenceExtras(e: Envelope): Element[] {
  return withError(e, tail(e, []));
}

/** An IQ's payload (RFC 6120 section 8.2.3) and its error. */
export function iqChildren(e: Envelope): Element[] {
  return withError(e, (e.payload ?? []).map(fromXNode));
}
