/**
 * A self-signed certificate for the hosted domains, made on first start so a
 * single-box gateway speaks TLS out of the box. Real deployments install a
 * CA-issued certificate (`demarc certs csr` / `demarc certs install`).
 */
import { buildCertificate, generateKey } from "./build.js";
import { domainsSan, hostedSan, type HostedDomain } from "./names.js";

export interface PemPair {
  cert: string;
  key: string;
}

/** Names every domain (and, given HostedDomain entries, their services) as DNS-ID, XmppAddr and SRVName. */
export function selfSign(domains: string[] | HostedDomain[], days = 825): PemPair {
  const hosted = domains.length && typeof domains[0] === "object";
  const san = hosted ? hostedSan(domains as HostedDomain[]) : domainsSan(domains as string[]);
  const k = generateKey();
  const cert = buildCertificate({
    commonName: san.dns![0]!,
    organization: "demarc self-signed",
    san,
    publicKey: k.publicKey,
    signingKey: k.key,
    days,
  });
  return { cert, key: k.key };
}
