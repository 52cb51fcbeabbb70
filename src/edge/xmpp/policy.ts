/**
 * Who may federate and how: the partner allow/deny lists and, per partner,
 * which authentication methods are accepted (e.g. certificates only for a
 * bank, dialback allowed for others). Unlisted partners in "open" mode get the
 * global defaults; in "allow-listed" mode they are refused.
 */
import type { LoadedConfig } from "../../config/load.js";
import { deniedBy, denySet } from "../deny-list.js";

export type AuthMethod = "certificate" | "dialback";
type Partner = LoadedConfig["partners"][number];

export interface PartnerSettings {
  allowed: boolean;
  /** Why not, for the stream error text. */
  reason?: string;
  methods: AuthMethod[];
  profile: Partner["profile"];
  maxStanzaBytes: number;
  rate: number;
  burst: number;
}

export class PartnerPolicy {
  private partners = new Map<string, Partner>();
  private sipPartners = new Set<string>();
  private deny = new Set<string>();

  constructor(private config: LoadedConfig) {
    this.update(config);
  }

  update(config: LoadedConfig): void {
    this.config = config;
    this.partners = new Map(config.partners.filter((p) => p.protocol === "xmpp").map((p) => [p.domain.toLowerCase(), p]));
    this.sipPartners = new Set(config.partners.filter((p) => p.protocol === "sip").map((p) => p.domain.toLowerCase()));
    this.deny = denySet(config.federation.deny);
  }

  hosted(domain: string): boolean {
    const d = domain.toLowerCase();
    return this.config.domains.some((h) => h.toLowerCase() === d);
  }

  get hostedDomains(): string[] {
    return this.config.domains.map((d) => d.toLowerCase());
  }

  denied(domain: string): boolean {
    return deniedBy(domain, this.deny);
  }

  settings(domain: string): PartnerSettings {
    const d = domain.toLowerCase();
    const s2s = this.config.s2s;
    const p = this.partners.get(d);
    const base = {
      methods: p?.auth ?? (["certificate", "dialback"] as AuthMethod[]),
      profile: p?.profile ?? "xmpp-rich",
      maxStanzaBytes: p?.max_stanza_bytes ?? s2s.max_stanza_bytes,
      rate: p?.rate ?? s2s.rate,
      burst: p?.burst ?? s2s.burst,
    };
    if (this.hosted(d)) return { ...base, allowed: false, reason: `${d} is hosted here` };
    if (this.denied(d)) return { ...base, allowed: false, reason: `federation with ${d} is denied` };
    if (this.sipPartners.has(d) && !p) return { ...base, allowed: false, reason: `${d} is a SIP partner, not an XMPP one` };
    if (this.config.federation.mode === "allow-listed" && !p) {
      return { ...base, allowed: false, reason: `${d} is not an allowed partner` };
    }
    return { ...base, allowed: true };
  }

  allows(domain: string, method: AuthMethod): boolean {
    const s = this.settings(domain);
    return s.allowed && s.methods.includes(method);
  }
}
