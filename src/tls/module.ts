/**
 * Holds the trust store and the DNS resolver the edges are given (both
 * rebuilt on reload), and watches the installed certificates: hosted names (domains,
 * their services and subdomains) that no valid certificate covers, and
 * certificates close to expiry, are logged at startup and reported by /readyz.
 * Runs before the edges that read them.
 */
import { started, type GatewayContext, type GatewayModule, type Provider } from "../module.js";
import type { LoadedConfig } from "../config/load.js";
import { resolvePath } from "../config/load.js";
import { createResolver, type Resolver } from "../edge/dns/resolver.js";
import { TrustStore } from "./trust.js";
import { hostedDomains, hostedNames } from "./names.js";
import { certStatus, uncoveredNames, type CertStatus } from "./status.js";

export function trustFromConfig(cfg: LoadedConfig): TrustStore {
  const pinned: Record<string, string[]> = {};
  for (const p of cfg.partners) if (p.pinned.length) pinned[p.domain] = [...(pinned[p.domain] ?? []), ...p.pinned];
  return TrustStore.load({ system: cfg.tls.trust.system, caFiles: cfg.tls.trust.ca_files.map((f) => resolvePath(cfg, f)), pinned });
}

export function resolverFromConfig(cfg: LoadedConfig): Resolver {
  return createResolver({ servers: cfg.dns.servers, timeoutMs: cfg.dns.timeout_ms, maxTtlS: cfg.dns.max_cache_s });
}

/** What the edges need to reach partners: whom to trust, and how to find them. */
export interface PeerAccess {
  trust: Provider<TrustStore>;
  resolver: Provider<Resolver>;
}

export interface TlsModule extends GatewayModule, PeerAccess {}

export function tlsModule(): TlsModule {
  let trust: TrustStore | undefined;
  let resolver: Resolver | undefined;
  const statuses = (ctx: GatewayContext): CertStatus[] => {
    const hosted = hostedNames(ctx.config);
    return ctx.certs.certs.map((c) => certStatus(c.x509, c.certPath, hosted, ctx.config.tls.warn_days));
  };
  const report = (ctx: GatewayContext): void => {
    const all = statuses(ctx);
    for (const s of all) {
      if (s.expired) ctx.log.error({ path: s.path, notAfter: s.notAfter.toISOString() }, "installed certificate has expired");
      else if (s.expiringSoon) ctx.log.warn({ path: s.path, daysLeft: s.daysLeft }, "installed certificate expires soon");
    }
    const missing = uncoveredNames(all, hostedNames(ctx.config));
    if (missing.length) ctx.log.warn({ names: missing }, "hosted names not covered by any valid certificate (run: demarc certs csr)");
  };
  return {
    name: "tls",
    trust: started("trust store", () => trust),
    resolver: started("DNS resolver", () => resolver),
    async start(ctx) {
      trust = trustFromConfig(ctx.config);
      resolver = resolverFromConfig(ctx.config);
      if (ctx.certs.coverSelfSigned(hostedDomains(ctx.config))) {
        ctx.log.warn({ path: ctx.certs.generated, names: hostedNames(ctx.config) }, "self-signed certificate remade to cover the hosted services");
      }
      report(ctx);
      ctx.readiness.set("certificate-names", () => {
        const all = statuses(ctx);
        const missing = uncoveredNames(all, hostedNames(ctx.config));
        const expired = all.filter((s) => s.expired).map((s) => s.path);
        const problems = [
          ...(missing.length ? [`no valid certificate covers ${missing.join(", ")}`] : []),
          ...(expired.length ? [`expired: ${expired.join(", ")}`] : []),
        ];
        return problems.length ? problems.join("; ") : undefined;
      });
    },
    async stop() {},
    async reload(ctx) {
      // Build both first: a bad CA file throws and leaves the running ones in place.
      const nextTrust = trustFromConfig(ctx.config);
      const nextResolver = resolverFromConfig(ctx.config);
      trust = nextTrust;
      resolver = nextResolver;
      report(ctx);
    },
  };
}
