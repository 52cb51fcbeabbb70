/**
 * The DNS records a deployment must publish so partners and clients find it:
 * - RFC 6120 section 3.2.1: _xmpp-server._tcp / _xmpp-client._tcp SRV;
 * - XEP-0368: _xmpps-server._tcp / _xmpps-client._tcp for direct TLS;
 * - RFC 3263 section 4.1: _sips._tcp for SIP over TLS, plus
 *   _sipfederationtls._tcp, which Lync / Skype for Business federation looks up;
 * - each XMPP service (conference, pubsub) needs its own _xmpp-server SRV, since
 *   partners federate with it as a domain of its own;
 * - A / AAAA for the public host the SRV records point at.
 */
import type { LoadedConfig } from "../../config/load.js";
import { hostedDomains } from "../../tls/names.js";

export interface SrvData {
  priority: number;
  weight: number;
  port: number;
  target: string;
}

export type DnsRecord =
  | { name: string; type: "SRV"; ttl: number; srv: SrvData; why: string }
  | { name: string; type: "A" | "AAAA"; ttl: number; address: string; why: string };

export interface PublishPlan {
  host: string;
  records: DnsRecord[];
  /** Things the operator must still configure for the plan to be complete. */
  notes: string[];
}

export function publicHost(cfg: LoadedConfig): string {
  return (cfg.dns.publish.host ?? `edge.${hostedDomains(cfg)[0]!.domain}`).toLowerCase().replace(/\.$/, "");
}

export function requiredRecords(cfg: LoadedConfig): PublishPlan {
  const host = publicHost(cfg);
  const { ttl, ports, ipv4, ipv6 } = cfg.dns.publish;
  const records: DnsRecord[] = [];
  const notes: string[] = [];
  const srv = (name: string, port: number, why: string): void => {
    records.push({ name, type: "SRV", ttl, srv: { priority: 0, weight: 5, port, target: host }, why });
  };
  for (const h of hostedDomains(cfg)) {
    if (cfg.s2s.starttls.enabled) srv(`_xmpp-server._tcp.${h.domain}`, ports.s2s ?? cfg.s2s.starttls.port, "XMPP s2s (STARTTLS)");
    if (cfg.s2s.direct_tls.enabled) srv(`_xmpps-server._tcp.${h.domain}`, ports.s2s_direct_tls ?? cfg.s2s.direct_tls.port, "XMPP s2s direct TLS");
    if (cfg.c2s.starttls.enabled) srv(`_xmpp-client._tcp.${h.domain}`, ports.c2s ?? cfg.c2s.starttls.port, "XMPP c2s (STARTTLS)");
    if (cfg.c2s.direct_tls.enabled) srv(`_xmpps-client._tcp.${h.domain}`, ports.c2s_direct_tls ?? cfg.c2s.direct_tls.port, "XMPP c2s direct TLS");
    if (cfg.sip.tls.enabled) {
      const port = ports.sip_tls ?? cfg.sip.tls.port;
      srv(`_sips._tcp.${h.domain}`, port, "SIP over TLS");
      srv(`_sipfederationtls._tcp.${h.domain}`, port, "SIP federation over TLS (Lync/Skype for Business)");
    }
    for (const s of h.services) {
      if (cfg.s2s.starttls.enabled) srv(`_xmpp-server._tcp.${s}`, ports.s2s ?? cfg.s2s.starttls.port, `XMPP service ${s}`);
      if (cfg.s2s.direct_tls.enabled) srv(`_xmpps-server._tcp.${s}`, ports.s2s_direct_tls ?? cfg.s2s.direct_tls.port, `XMPP service ${s} direct TLS`);
    }
  }
  for (const address of ipv4) records.push({ name: host, type: "A", ttl, address, why: "public address" });
  for (const address of ipv6) records.push({ name: host, type: "AAAA", ttl, address, why: "public address" });
  if (ipv4.length + ipv6.length === 0) notes.push(`no public address configured for ${host} (dns.publish.ipv4 / dns.publish.ipv6): its A/AAAA records are not listed`);
  if (records.every((r) => r.type !== "SRV")) notes.push("no listener is enabled: nothing to publish SRV records for");
  return { host, records, notes };
}

const fqdn = (n: string): string => (n.endsWith(".") ? n : `${n}.`);

/** One record in RFC 1035 master file syntax. */
export function zoneLine(r: DnsRecord): string {
  const rdata = r.type === "SRV" ? `${r.srv.priority} ${r.srv.weight} ${r.srv.port} ${fqdn(r.srv.target)}` : r.address;
  return `${fqdn(r.name)}\t${r.ttl}\tIN\t${r.type}\t${rdata}`;
}

export function zoneText(plan: PublishPlan): string {
  const lines = [`; DNS records for this demarc deployment (public host ${plan.host})`];
  for (const n of plan.notes) lines.push(`; NOTE: ${n}`);
  for (const r of plan.records) lines.push(`${zoneLine(r)}\t; ${r.why}`);
  return `${lines.join("\n")}\n`;
}
