/**
 * The security context an inbound s2s stanza's envelope carries: how its
 * partner domain was authenticated on the stream, over which TLS version,
 * with which certificate, from where.
 */
import type { SecurityContext } from "../../model/envelope.js";
import type { InboundSession } from "./inbound.js";

/**
 * The same for every stanza of a stream from one domain, so it is made once
 * per domain (and again if the domain is authenticated anew another way),
 * kept in `known`, and shared, frozen, by the envelopes.
 */
export function securityOf(session: InboundSession, known: Map<string, SecurityContext>, domain: string): SecurityContext {
  const auth = session.authenticated.get(domain) === "certificate" ? "certificate" : "dialback";
  const had = known.get(domain);
  if (had?.auth === auth) return had;
  const ctx: SecurityContext = Object.freeze({
    auth,
    tlsVersion: session.tlsVersion(),
    certFingerprint: session.peerCertificate()?.fingerprint256,
    remoteAddress: session.remoteAddress,
  });
  known.set(domain, ctx);
  return ctx;
}
