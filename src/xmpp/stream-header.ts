/**
 * The stream envelope every kind of XMPP stream shares (RFC 6120 section 4):
 * the opening header, the closing tag, and the refusal of a stream before it
 * got a header. Only the default namespace and the attributes differ between
 * s2s (jabber:server), c2s (jabber:client) and the component link
 * (jabber:component:accept).
 */
import { randomBytes } from "node:crypto";
import type { Socket } from "node:net";
import { NS_STREAMS, type StreamError } from "./errors.js";
import { escapeXML } from "./xml.js";

export const STREAM_CLOSE = "</stream:stream>";

/** RFC 6120 section 4.7.3: an id the peer cannot guess. */
export function newStreamId(): string {
  return randomBytes(12).toString("base64url");
}

/**
 * RFC 6120 section 4.7: the opening header with `ns` as the default namespace;
 * attributes follow in the given order, empty ones left out.
 */
export function streamHeader(ns: string, attrs: Record<string, string | undefined> = {}): string {
  let out = `<?xml version='1.0'?><stream:stream xmlns='${ns}' xmlns:stream='${NS_STREAMS}'`;
  for (const [k, v] of Object.entries(attrs)) if (v) out += ` ${k}='${escapeXML(v)}'`;
  return `${out}>`;
}

/**
 * RFC 6120 section 4.4: after our closing tag, the peer gets a moment to send
 * its own before the connection is dropped.
 */
export function endSocket(socket: Socket, graceMs = 2_000): void {
  socket.end();
  const t = setTimeout(() => socket.destroy(), graceMs);
  t.unref();
  socket.once("close", () => clearTimeout(t));
}

/** RFC 6120 section 4.9.1.1: a stream error is sent inside a stream, so a stream refused before our header gets one first. */
export function refuseStream(ns: string, err: StreamError): string {
  return `${streamHeader(ns, { version: "1.0" })}${err.toXml()}${STREAM_CLOSE}`;
}
