/**
 * Every name the deployment answers to, derived from the config: the hosted
 * domains, their XMPP services (conference, pubsub) and other subdomains.
 * Certificates (`certs csr`, `selfsign`, `status`) and DNS records use the
 * same list so they cannot drift apart.
 */
import type { SanNames } from "./san.js";
import { normalizeDomain } from "./peer.js";

export interface HostedTlsConfig {
  domains: string[];
  tls: {
    services: string[];
    subdomains: string[];
    per_domain: Record<string, { services?: string[] | undefined; subdomains?: string[] | undefined }>;
  };
}

export interface HostedDomain {
  domain: string;
  /** Fully qualified XMPP service names under the domain. */
  services: string[];
  /** Fully qualified other names under the domain. */
  subdomains: string[];
}

function qualify(label: string, domain: string): string {
  const l = label.toLowerCase().replace(/\.$/, "");
  return l === domain || l.endsWith(`.${domain}`) ? l : `${l}.${domain}`;
}

export function hostedDomains(cfg: HostedTlsConfig): HostedDomain[] {
  return cfg.domains.map((raw) => {
    const domain = normalizeDomain(raw) || raw.toLowerCase();
    const own = Object.entries(cfg.tls.per_domain).find(([k]) => normalizeDomain(k) === domain)?.[1];
    return {
      domain,
      services: [...new Set((own?.services ?? cfg.tls.services).map((s) => qualify(s, domain)))],
      subdomains: [...new Set((own?.subdomains ?? cfg.tls.subdomains).map((s) => qualify(s, domain)))],
    };
  });
}

/** All DNS names a certificate for this deployment must cover. */
export function hostedNames(cfg: HostedTlsConfig): string[] {
  return [...new Set(hostedDomains(cfg).flatMap((h) => [h.domain, ...h.services, ...h.subdomains]))];
}

/**
 * The subjectAltName for the deployment: every name as a DNS-ID; each domain
 * and service as XmppAddr and as SRVName for _xmpp-server (RFC 6120 13.7.1.4,
 * RFC 4985); each domain also as _xmpp-client (clients connect to domains only).
 */
export function hostedSan(hosted: HostedDomain[]): SanNames {
  const dns: string[] = [];
  const xmppAddr: string[] = [];
  const srv: string[] = [];
  for (const h of hosted) {
    dns.push(h.domain, ...h.services, ...h.subdomains);
    xmppAddr.push(h.domain, ...h.services);
    srv.push(`_xmpp-server.${h.domain}`, `_xmpp-client.${h.domain}`, ...h.services.map((s) => `_xmpp-server.${s}`));
  }
  return { dns: [...new Set(dns)], xmppAddr: [...new Set(xmppAddr)], srv: [...new Set(srv)] };
}

/** The same for a bare list of domains (no services): used by the first-start self-signed certificate. */
export function domainsSan(domains: string[]): SanNames {
  return hostedSan(domains.map((d) => ({ domain: normalizeDomain(d) || d.toLowerCase(), services: [], subdomains: [] })));
}
