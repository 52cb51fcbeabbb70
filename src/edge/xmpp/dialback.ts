/**
 * Server dialback, XEP-0220: the elements of its three roles. The initiating
 * server sends <db:result/> with a key; the receiving server asks the
 * authoritative server with <db:verify/>; the authoritative server (us, for
 * our own domains) recomputes the key and answers valid or invalid.
 */
import { xml, type Element } from "../../xmpp/xml.js";
import { NS_STANZA_ERRORS } from "../../xmpp/errors.js";
import { verifyDialbackKey } from "./dialback-keys.js";

export type DialbackType = "valid" | "invalid" | "error";

export function resultRequest(from: string, to: string, key: string): Element {
  return xml("db:result", { from, to }, key);
}

/** Section 2.4: errors carry a stanza error condition, e.g. item-not-found for a domain not hosted. */
export function resultResponse(from: string, to: string, type: DialbackType, condition?: string, text?: string): Element {
  return xml("db:result", { from, to, type }, type === "error" ? dialbackError(condition ?? "undefined-condition", text) : undefined);
}

export function verifyRequest(from: string, to: string, id: string, key: string): Element {
  return xml("db:verify", { from, to, id }, key);
}

export function verifyResponse(from: string, to: string, id: string, type: DialbackType, condition?: string): Element {
  return xml("db:verify", { from, to, id, type }, type === "error" ? dialbackError(condition ?? "item-not-found") : undefined);
}

function dialbackError(condition: string, text?: string): Element {
  const type = condition === "remote-server-not-found" || condition === "item-not-found" ? "cancel" : "auth";
  return xml(
    "error",
    { type },
    xml(condition, { xmlns: NS_STANZA_ERRORS }),
    text ? xml("text", { xmlns: NS_STANZA_ERRORS, "xml:lang": "en" }, text) : undefined,
  );
}

/**
 * Authoritative role (section 2.1.3): a verify request names us as 'to' (the
 * originating server) and the asking server as 'from' (the receiving server).
 */
export function answerVerify(req: Element, secret: string, hosted: (d: string) => boolean): Element {
  const receiving = (req.attrs.from ?? "").toLowerCase();
  const originating = (req.attrs.to ?? "").toLowerCase();
  const id = req.attrs.id ?? "";
  if (!hosted(originating)) return verifyResponse(originating, receiving, id, "error", "item-not-found");
  const ok = id !== "" && receiving !== "" && verifyDialbackKey(secret, receiving, originating, id, req.getText());
  return verifyResponse(originating, receiving, id, ok ? "valid" : "invalid");
}

export function isDialback(el: Element, local: "result" | "verify"): boolean {
  return el.name === `db:${local}`;
}
