/**
 * What the review console's partner page shows per partner domain: the last
 * inbound and outbound s2s stream (when, how it authenticated, TLS version,
 * the partner certificate's names and expiry) and the last failures in the
 * words the edge already uses for them. Kept in memory, bounded: it describes
 * this process's streams since it started, not history (the archive has that).
 */
import type { X509Certificate } from "node:crypto";

export interface StreamSeen {
  at: number;
  auth: string;
  tlsVersion: string | null;
  /** The partner certificate as presented on that stream, when there was one. */
  cert: { names: string[]; validTo: number; fingerprint: string } | null;
}

export interface PartnerState {
  domain: string;
  lastInbound: StreamSeen | null;
  lastOutbound: StreamSeen | null;
  /** Newest first. */
  failures: { at: number; direction: "inbound" | "outbound"; text: string }[];
}

const MAX_DOMAINS = 10_000;
const MAX_FAILURES = 10;

export function certSummary(cert: X509Certificate | undefined): StreamSeen["cert"] {
  if (!cert) return null;
  const names = (cert.subjectAltName ?? "").split(/,\s*/).filter(Boolean);
  return { names, validTo: Date.parse(cert.validTo), fingerprint: cert.fingerprint256 };
}

export class PartnerHealth {
  private readonly byDomain = new Map<string, PartnerState>();

  constructor(private readonly now: () => number = Date.now) {}

  private state(domain: string): PartnerState {
    const d = domain.toLowerCase();
    let s = this.byDomain.get(d);
    if (!s) {
      if (this.byDomain.size >= MAX_DOMAINS) this.byDomain.delete(this.byDomain.keys().next().value!);
      s = { domain: d, lastInbound: null, lastOutbound: null, failures: [] };
      this.byDomain.set(d, s);
    }
    return s;
  }

  stream(domain: string, direction: "inbound" | "outbound", seen: Omit<StreamSeen, "at">): void {
    const s = this.state(domain);
    const entry = { ...seen, at: this.now() };
    if (direction === "inbound") s.lastInbound = entry;
    else s.lastOutbound = entry;
  }

  failure(domain: string, direction: "inbound" | "outbound", text: string): void {
    const s = this.state(domain);
    s.failures.unshift({ at: this.now(), direction, text });
    s.failures.length = Math.min(s.failures.length, MAX_FAILURES);
  }

  get(domain: string): PartnerState | undefined {
    return this.byDomain.get(domain.toLowerCase());
  }

  all(): PartnerState[] {
    return [...this.byDomain.values()];
  }
}
