/**
 * Who may federate and how: the partner allow/deny lists and, per partner,
 * which authentication methods are accepted (e.g. certificates only for a
 * bank, dialback allowed for others). Unlisted partners in "open" mode get the
 * global defaults; in "allow-listed" mode they are refused.
 */
import type { LoadedConfig } from "../../config/load.js";
import { Federation } from "../../config/federation.js";

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
  private federation: () => Federation;

  /**
   * @param federation hosted domains and partners, asked on every decision so a
   *   reload applies at once; without it, the config's as they are now.
   */
  constructor(
    private config: LoadedConfig,
    federation?: () => Federation,
  ) {
    const fixed = federation ? undefined : Federation.fromConfig(config);
    this.federation = federation ?? (() => fixed!);
  }

  /** The s2s defaults (sizes, rates) for unlisted partners. */
  update(config: LoadedConfig): void {
    this.config = config;
  }

  hosted(domain: string): boolean {
    return this.federation().hosts(domain);
  }

  get hostedDomains(): string[] {
    return [...this.federation().domains];
  }

  denied(domain: string): boolean {
    return this.federation().denies(domain);
  }

  settings(domain: string): PartnerSettings {
    const d = domain.toLowerCase();
    const s2s = this.config.s2s;
    const fed = this.federation();
    const listed = fed.partner(d);
    const p = listed?.protocol === "xmpp" ? listed : undefined;
    const base = {
      methods: p?.auth ?? (["certificate", "dialback"] as AuthMethod[]),
      profile: p?.profile ?? "xmpp-rich",
      maxStanzaBytes: p?.max_stanza_bytes ?? s2s.max_stanza_bytes,
      rate: p?.rate ?? s2s.rate,
      burst: p?.burst ?? s2s.burst,
    };
    const reason = this.refusal(d);
    return reason === undefined ? { ...base, allowed: true } : { ...base, allowed: false, reason };
  }

  /**
   * Why the federation view in force refuses a domain, or undefined. Asked at each
   * stanza on an open stream too, so a partner denied by a reload is cut off
   * without waiting for its stream to close; it allocates nothing when allowed.
   */
  refusal(domain: string): string | undefined {
    const d = domain.toLowerCase();
    const fed = this.federation();
    const listed = fed.partner(d);
    if (fed.hosts(d)) return `${d} is hosted here`;
    if (fed.denies(d)) return `federation with ${d} is denied`;
    if (listed?.protocol === "sip") return `${d} is a SIP partner, not an XMPP one`;
    if (fed.mode === "allow-listed" && listed?.protocol !== "xmpp") return `${d} is not an allowed partner`;
    return undefined;
  }

  allows(domain: string, method: AuthMethod): boolean {
    const s = this.settings(domain);
    return s.allowed && s.methods.includes(method);
  }
}
