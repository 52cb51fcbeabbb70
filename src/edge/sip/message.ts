/**
 * Building and checking SIP messages (RFC 3261 sections 8.1, 8.2, 20).
 * Bodies are binary strings on the wire; these helpers take and give UTF-8.
 */
import { randomBytes } from "node:crypto";
import sip, { type NameAddr, type SipMessage } from "sip";

export const ALLOWED_METHODS = ["MESSAGE", "SUBSCRIBE", "NOTIFY", "PUBLISH", "OPTIONS"] as const;
export const ALLOW_HEADER = ALLOWED_METHODS.join(", ");
/** Methods RFC 3261 and its extensions define that demarc does not serve: 405, not 501 (RFC 3261 21.4.6, 21.5.2). */
export const KNOWN_METHODS = new Set(["INVITE", "ACK", "BYE", "CANCEL", "REGISTER", "PRACK", "UPDATE", "INFO", "REFER", ...ALLOWED_METHODS]);

export function token(bytes = 8): string {
  return randomBytes(bytes).toString("hex");
}

/** RFC 3261 8.1.1.7: branch ids start with the magic cookie. */
export function newBranch(): string {
  return `z9hG4bK${token(10)}`;
}

export function utf8ToBinary(s: string): string {
  return Buffer.from(s, "utf8").toString("binary");
}

export function binaryToUtf8(s: string | undefined): string {
  return s ? Buffer.from(s, "binary").toString("utf8") : "";
}

export function header(m: SipMessage, name: string): string | undefined {
  const v = m.headers[name.toLowerCase()];
  return typeof v === "string" ? v : typeof v === "number" ? String(v) : undefined;
}

/** Media type without parameters, lower case. */
export function contentType(m: SipMessage): string | undefined {
  const v = header(m, "content-type");
  return v?.split(";")[0]?.trim().toLowerCase();
}

/** RFC 3261 8.2.1-8.2.2: what a request needs before it can be processed at all. */
export function missingHeader(m: SipMessage): string | undefined {
  const h = m.headers;
  if (!Array.isArray(h.via) || h.via.length === 0) return "Via";
  if (!h["call-id"]) return "Call-ID";
  if (!h.cseq || !Number.isFinite(h.cseq.seq)) return "CSeq";
  if (!h.from?.uri) return "From";
  if (!h.to?.uri) return "To";
  if (m.method && h.cseq.method.toUpperCase() !== m.method.toUpperCase()) return "CSeq";
  return undefined;
}

export interface ResponseOptions {
  /** Added to To when the request had no tag (RFC 3261 8.2.6.2). */
  toTag?: string | undefined;
  headers?: Record<string, string | number> | undefined;
  /** UTF-8 body. */
  body?: string | undefined;
  contentType?: string | undefined;
}

export function response(rq: SipMessage, status: number, reason: string, opts: ResponseOptions = {}): SipMessage {
  const extra: Record<string, unknown> = { ...(opts.headers ?? {}) };
  const rs = sip.makeResponse(rq, status, reason, { headers: extra });
  if (rq.headers.to) {
    const to: NameAddr = { ...rq.headers.to, params: { ...rq.headers.to.params } };
    if (status > 100 && !to.params.tag) to.params.tag = opts.toTag ?? token(6);
    rs.headers.to = to;
  }
  if (opts.body !== undefined) {
    rs.headers["content-type"] = opts.contentType ?? "text/plain;charset=UTF-8";
    rs.content = utf8ToBinary(opts.body);
  }
  rs.headers.server = "demarc";
  return rs;
}

/** RFC 3261 20.43: warn-code 399 is "miscellaneous warning"; the text is a quoted-string. */
export function warning(host: string, text: string): string {
  const quoted = text.replace(/[\r\n]+/g, " ").replace(/["\\]/g, (c) => `\\${c}`);
  return `399 ${host} "${quoted}"`;
}

export interface RequestOptions {
  method: string;
  uri: string;
  from: NameAddr;
  to: NameAddr;
  callId: string;
  cseq: number;
  /** Via sent-by: the transport and our host. */
  via: { protocol: string; host: string; port?: number | undefined };
  contact?: string | undefined;
  headers?: Record<string, string | number> | undefined;
  body?: string | undefined;
  contentType?: string | undefined;
}

export function request(o: RequestOptions): SipMessage {
  const headers: SipMessage["headers"] = {
    via: [{ version: "2.0", protocol: o.via.protocol, host: o.via.host, port: o.via.port, params: { branch: newBranch(), rport: null } }],
    "max-forwards": "70",
    to: o.to,
    from: o.from,
    "call-id": o.callId,
    cseq: { seq: o.cseq, method: o.method },
    "user-agent": "demarc",
  };
  if (o.contact) headers.contact = [{ uri: o.contact, params: {} }];
  for (const [k, v] of Object.entries(o.headers ?? {})) headers[k.toLowerCase()] = String(v);
  const m: SipMessage = { method: o.method, uri: o.uri, version: "2.0", headers };
  if (o.body !== undefined) {
    headers["content-type"] = o.contentType ?? "text/plain;charset=UTF-8";
    m.content = utf8ToBinary(o.body);
  }
  return m;
}

/** Serialises to a binary string for the socket (bodies already binary). */
export function serialize(m: SipMessage): string {
  return sip.stringify(m);
}

export function topBranch(m: SipMessage): string | undefined {
  const b = m.headers.via?.[0]?.params.branch;
  return typeof b === "string" ? b : undefined;
}
