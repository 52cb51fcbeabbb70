/**
 * SASL EXTERNAL between servers, XEP-0178 and RFC 6120 section 6.4. The
 * authorization identity is the initiating domain (base64), or "=" for empty,
 * in which case the domain comes from the stream header's 'from'.
 */
import { xml, type Element } from "../../xmpp/xml.js";
import { NS_SASL } from "../../xmpp/ns.js";

/** RFC 6120 section 6.4.2: "=" stands for an empty response. */
export function encodeAuthzid(domain: string | undefined): string {
  return domain ? Buffer.from(domain, "utf8").toString("base64") : "=";
}

/** The requested authorization identity, or undefined when empty; throws on bad base64 (incorrect-encoding). */
export function decodeAuthzid(text: string): string | undefined {
  const t = text.trim();
  if (t === "" || t === "=") return undefined;
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(t) || t.length % 4 !== 0) throw new Error("incorrect-encoding");
  const s = Buffer.from(t, "base64").toString("utf8");
  return s === "" ? undefined : s.toLowerCase();
}

export function authElement(localDomain: string): Element {
  return xml("auth", { xmlns: NS_SASL, mechanism: "EXTERNAL" }, encodeAuthzid(localDomain));
}

/** Section 6.5: the failure conditions used here. */
export type SaslFailure = "invalid-mechanism" | "not-authorized" | "invalid-authzid" | "incorrect-encoding" | "encryption-required";

export function failureElement(condition: SaslFailure, text?: string): Element {
  return xml("failure", { xmlns: NS_SASL }, xml(condition), text ? xml("text", { "xml:lang": "en" }, text) : undefined);
}

export function successElement(): Element {
  return xml("success", { xmlns: NS_SASL });
}

export function offersExternal(features: Element): boolean {
  const mechs = features.getChild("mechanisms", NS_SASL);
  return !!mechs?.getChildren("mechanism").some((m) => m.getText().trim().toUpperCase() === "EXTERNAL");
}
