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

/** Partners whose settings are kept per federation view; past this (many one-off domains) they are worked out each time. */
const CACHED_PARTNERS = 4096;

export class PartnerPolicy {
  private federation: () => Federation;
  /**
   * Settings as worked out for each view of the federation: a view is
   * immutable and a reload swaps in a new one, so what was decided under a
   * view stays true for it. Asked for every stanza (its partner's refusal,
   * its rate), the answer is then a lookup instead of new objects.
   */
  private cache = new WeakMap<Federation, Map<string, PartnerSettings>>();

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
    this.cache = new WeakMap();
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
    const fed = this.federation();
    let known = this.cache.get(fed);
    if (!known) this.cache.set(fed, (known = new Map()));
    let s = known.get(domain);
    if (s) return s;
    s = Object.freeze(this.decide(domain, fed));
    if (known.size < CACHED_PARTNERS) known.set(domain, s);
    return s;
  }

  private decide(domain: string, fed: Federation): PartnerSettings {
    const d = domain.toLowerCase();
    const s2s = this.config.s2s;
    const listed = fed.partner(d);
    const p = listed?.protocol === "xmpp" ? listed : undefined;
    const base = {
      methods: p?.auth ?? (["certificate", "dialback"] as AuthMethod[]),
      profile: p?.profile ?? "xmpp-rich",
      maxStanzaBytes: p?.max_stanza_bytes ?? s2s.max_stanza_bytes,
      rate: p?.rate ?? s2s.rate,
      burst: p?.burst ?? s2s.burst,
    };
    const reason = refusal(d, fed);
    return reason === undefined ? { ...base, allowed: true } : { ...base, allowed: false, reason };
  }

  /**
   * Why the federation view in force refuses a domain, or undefined. Asked at each
   * stanza on an open stream too, so a partner denied by a reload is cut off
   * without waiting for its stream to close; it allocates nothing once its view knows the domain.
   */
  refusal(domain: string): string | undefined {
    return this.settings(domain).reason;
  }

  allows(domain: string, method: AuthMethod): boolean {
    const s = this.settings(domain);
    return s.allowed && s.methods.includes(method);
  }
}

function refusal(d: string, fed: Federation): string | undefined {
  const listed = fed.partner(d);
  if (fed.hosts(d)) return `${d} is hosted here`;
  if (fed.denies(d)) return `federation with ${d} is denied`;
  if (listed?.protocol === "sip") return `${d} is a SIP partner, not an XMPP one`;
  if (fed.mode === "allow-listed" && listed?.protocol !== "xmpp") return `${d} is not an allowed partner`;
  return undefined;
}
