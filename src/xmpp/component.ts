/**
 * XEP-0114 (Jabber Component Protocol) wire pieces shared by both ends: the
 * accept namespace, the stream header and the handshake digest.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import { streamHeader } from "./stream-header.js";

export const NS_COMPONENT = "jabber:component:accept";

/** XEP-0114 section 3: the opening header; `to` from the component, `from` and `id` from the server. */
export function componentHeader(attrs: { to?: string; from?: string; id?: string }): string {
  return streamHeader(NS_COMPONENT, attrs);
}

/** XEP-0114 section 3: lower-case hex SHA-1 of the stream id concatenated with the shared secret. */
export function handshakeDigest(streamId: string, secret: string): string {
  return createHash("sha1").update(streamId + secret, "utf8").digest("hex");
}

/** Compares a received handshake with the expected one in constant time. */
export function handshakeMatches(received: string, streamId: string, secret: string): boolean {
  const want = Buffer.from(handshakeDigest(streamId, secret));
  const got = Buffer.from(received.trim().toLowerCase());
  return got.length === want.length && timingSafeEqual(got, want);
}
