/**
 * The federation as one immutable view: which domains are hosted here, who
 * the partners are, which protocol reaches each, how each must authenticate
 * and which presence profile it gets. The gateway builds one from the config
 * at start and builds a new one on every reload, swapping it in one step, so
 * every layer that asks (the router, the edges, the core, c2s) sees the same
 * answer before and after, never half of each.
 */
import type { LoadedConfig } from "./load.js";

export type Partner = LoadedConfig["partners"][number];
export type Protocol = Partner["protocol"];
export type PartnerProfile = Partner["profile"];
export type AuthMethod = Partner["auth"][number];

export class Federation {
  /** Hosted domains, lower-cased, in config order. */
  readonly domains: readonly string[];
  /** The same, for lookups. */
  readonly hosted: ReadonlySet<string>;
  /** Configured partners by lower-cased domain. */
  readonly partners: ReadonlyMap<string, Readonly<Partner>>;
  /** open: unlisted XMPP partners federate with the defaults; allow-listed: only listed ones. */
  readonly mode: LoadedConfig["federation"]["mode"];
  /** Domains refused over every protocol, with their subdomains. */
  readonly deny: ReadonlySet<string>;

  private constructor(cfg: LoadedConfig) {
    this.domains = Object.freeze(cfg.domains.map((d) => d.toLowerCase()));
    this.hosted = new Set(this.domains);
    this.partners = new Map(cfg.partners.map((p) => [p.domain.toLowerCase(), Object.freeze({ ...p })]));
    this.mode = cfg.federation.mode;
    this.deny = new Set(cfg.federation.deny.map((d) => d.toLowerCase()));
    Object.freeze(this);
  }

  static fromConfig(cfg: LoadedConfig): Federation {
    return new Federation(cfg);
  }

  hosts(domain: string): boolean {
    return this.hosted.has(domain.toLowerCase());
  }

  partner(domain: string): Readonly<Partner> | undefined {
    return this.partners.get(domain.toLowerCase());
  }

  /** federation.deny: the domain or any domain it is a subdomain of is listed. */
  denies(domain: string): boolean {
    for (let d = domain.toLowerCase(); d.length > 0; ) {
      if (this.deny.has(d)) return true;
      const dot = d.indexOf(".");
      if (dot < 0) break;
      d = d.slice(dot + 1);
    }
    return false;
  }

  /** Which protocol reaches a partner domain; unlisted domains are XMPP (found through DNS). */
  protocolOf(domain: string): Protocol {
    return this.partner(domain)?.protocol ?? "xmpp";
  }

  /** The presence profile a partner is rendered for. */
  profileOf(domain: string): PartnerProfile | undefined {
    return this.partner(domain)?.profile;
  }

  /** How a partner must authenticate its streams; unlisted partners may use either. */
  authOf(domain: string): readonly AuthMethod[] {
    return this.partner(domain)?.auth ?? ["certificate", "dialback"];
  }
}

type Setting = readonly [name: string, read: (cfg: LoadedConfig) => unknown];

const listener = (name: string, read: (cfg: LoadedConfig) => { enabled?: boolean; host: string; port: number }): Setting => [
  name,
  (cfg) => {
    const l = read(cfg);
    return `${l.enabled ?? true}|${l.host}|${l.port}`;
  },
];

/** What is read once at start: a reload that changes one of these takes effect only after a restart. */
const START_ONLY: readonly Setting[] = [
  ["mode", (c) => c.mode],
  ["data_dir", (c) => c.data_dir],
  ["archive.url", (c) => c.archive.url],
  ["archive.journal.dir", (c) => c.archive.journal.dir],
  ["tls.dir", (c) => c.tls.dir],
  ["tls.certificates", (c) => JSON.stringify(c.tls.certificates)],
  ["policy.plugins", (c) => c.policy.plugins.join("\n")],
  listener("admin", (c) => c.admin),
  listener("s2s.starttls", (c) => c.s2s.starttls),
  listener("s2s.direct_tls", (c) => c.s2s.direct_tls),
  listener("c2s.starttls", (c) => c.c2s.starttls),
  listener("c2s.direct_tls", (c) => c.c2s.direct_tls),
  listener("sip.tls", (c) => c.sip.tls),
  listener("sip.tcp", (c) => c.sip.tcp),
  listener("sip.udp", (c) => c.sip.udp),
  listener("core_link.listen", (c) => c.core_link.listen),
];

/** The settings that differ between two configs and need a restart to apply. */
export function restartNeeded(running: LoadedConfig, next: LoadedConfig): string[] {
  return START_ONLY.filter(([, read]) => read(running) !== read(next)).map(([name]) => name);
}
