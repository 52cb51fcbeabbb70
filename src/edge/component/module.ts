/**
 * Split mode, the edge side: component streams (XEP-0114) to the internal
 * XMPP servers, one per (internal server, partner domain). It is the router's
 * internal delivery target: a partner's stanza for a hosted user goes to the
 * server hosting that user's domain, on the stream of the partner's domain,
 * so it enters with the partner's own from-address. What internal users send
 * to a partner arrives on that partner's stream and goes to the router as an
 * outbound Envelope (compliance, archive, then s2s or SIP).
 */
import type { GatewayContext, GatewayModule } from "../../gateway/context.js";
import { ConfigError } from "../../errors.js";
import { domainOf } from "../../model/envelope.js";
import { DeliveryFailure } from "../../pipeline/types.js";
import { trustFromConfig } from "../../tls/module.js";
import type { TrustStore } from "../../tls/trust.js";
import type { InternalServer } from "../../config/sections/edge.js";
import { ComponentLink } from "./link.js";
import { componentMetrics, type ComponentMetrics } from "./metrics.js";
import { LinkInbound } from "./inbound.js";
import { envelopeToComponentStanza } from "../../xmpp/index.js";

export interface ComponentModule extends GatewayModule {
  /** The links, keyed "server-index:partner-domain" (tests and admin look at them). */
  readonly links: ReadonlyMap<string, ComponentLink>;
}

const keyOf = (server: number, partner: string) => `${server}:${partner}`;

/** Which internal server hosts each domain; a domain on two servers is a config error. */
export function internalRoutes(domains: string[], servers: InternalServer[]): Map<string, number> {
  const hosted = new Set(domains.map((d) => d.toLowerCase()));
  const routes = new Map<string, number>();
  servers.forEach((s, i) => {
    for (const raw of s.domains) {
      const d = raw.toLowerCase();
      if (!hosted.has(d)) throw new ConfigError(`edge.internal[${i}]: ${d} is not one of the hosted domains (domains:)`);
      if (routes.has(d)) throw new ConfigError(`edge.internal[${i}]: ${d} is already served by edge.internal[${routes.get(d)}]`);
      routes.set(d, i);
    }
  });
  return routes;
}

export function componentModule(): ComponentModule {
  let ctx: GatewayContext;
  let metrics: ComponentMetrics;
  let routes = new Map<string, number>();
  const links = new Map<string, ComponentLink>();
  const inbound = new Map<ComponentLink, LinkInbound>();
  /** Partners' stanzas waiting for a link to come (back) online, per link. */
  const waiting = new Map<ComponentLink, number>();

  const trust = (): TrustStore => (ctx.services.get("trust") as TrustStore | undefined) ?? trustFromConfig(ctx.config);

  function makeLink(server: InternalServer, partner: string): ComponentLink {
    const e = ctx.config.edge;
    const link = new ComponentLink({
      log: ctx.log,
      domain: partner,
      host: server.host,
      port: server.port,
      secret: server.secret,
      tls: server.tls ? { ca: trust().ca, servername: server.tls_name ?? server.host } : undefined,
      maxStanzaBytes: e.max_stanza_bytes,
      connectTimeoutMs: e.connect_timeout_ms,
      reconnectInitialMs: e.reconnect_initial_ms,
      reconnectMaxMs: Math.max(e.reconnect_max_ms, e.reconnect_initial_ms),
      maxUnsentBytes: e.queue_max * e.max_stanza_bytes,
    });
    const hosted = new Set(server.domains.map((d) => d.toLowerCase()));
    inbound.set(link, new LinkInbound(link, { log: ctx.log, router: ctx.router, hosted, metrics }));
    link.on("online", () => metrics.online.inc());
    link.on("offline", () => metrics.online.dec());
    return link;
  }

  /** Starts the links the config asks for and stops those it no longer does. */
  function sync(): void {
    routes = internalRoutes(ctx.config.domains, ctx.config.edge.internal);
    const want = new Map<string, [InternalServer, string]>();
    ctx.config.edge.internal.forEach((s, i) => {
      for (const p of ctx.config.partners) want.set(keyOf(i, p.domain.toLowerCase()), [s, p.domain.toLowerCase()]);
    });
    for (const [key, link] of links) {
      if (want.has(key)) continue;
      if (link.state === "online") metrics.online.dec();
      void link.stop();
      inbound.get(link)?.drain();
      inbound.delete(link);
      links.delete(key);
      ctx.readiness.delete(`component ${link.name}`);
    }
    for (const [key, [server, partner]] of want) {
      if (links.has(key)) continue;
      const link = makeLink(server, partner);
      links.set(key, link);
      ctx.readiness.set(`component ${link.name}`, () => (link.state === "online" ? undefined : `component stream ${link.name} is ${link.state}: ${link.problem ?? ""}`));
      link.start();
    }
  }

  async function deliver(envelope: import("../../model/envelope.js").Envelope): Promise<void> {
    const hostedDomain = domainOf(envelope.to);
    const server = routes.get(hostedDomain);
    if (server === undefined) throw new DeliveryFailure({ condition: "service-unavailable", type: "cancel", text: `no internal server hosts ${hostedDomain}` });
    const partner = (envelope.partnerDomain ?? domainOf(envelope.from)).toLowerCase();
    const link = links.get(keyOf(server, partner));
    if (!link) throw new DeliveryFailure({ condition: "service-unavailable", type: "cancel", text: `no component stream for ${partner}` });
    if (link.state !== "online") await waitFor(link);
    try {
      link.send(envelopeToComponentStanza(envelope, "xmpp-rich"));
    } catch (err) {
      metrics.stanzas.inc({ direction: "to-internal", result: "refused" });
      if (err instanceof RangeError) throw new DeliveryFailure({ condition: "resource-constraint", type: "wait", text: "internal server is not keeping up" });
      throw new DeliveryFailure({ condition: "remote-server-timeout", type: "wait", text: "internal server unreachable" });
    }
    metrics.stanzas.inc({ direction: "to-internal", result: "sent" });
  }

  /** A stream that is (re)connecting gets a short, bounded grace; then the partner hears why. */
  async function waitFor(link: ComponentLink): Promise<void> {
    const n = waiting.get(link) ?? 0;
    if (n >= ctx.config.edge.queue_max) {
      throw new DeliveryFailure({ condition: "resource-constraint", type: "wait", text: "too many stanzas waiting for the internal server" });
    }
    waiting.set(link, n + 1);
    try {
      if (!(await link.waitOnline(ctx.config.edge.deliver_wait_ms))) {
        metrics.stanzas.inc({ direction: "to-internal", result: "timeout" });
        throw new DeliveryFailure({ condition: "remote-server-timeout", type: "wait", text: "internal server unreachable" });
      }
    } finally {
      waiting.set(link, (waiting.get(link) ?? 1) - 1);
    }
  }

  return {
    name: "component",
    links,
    async start(c) {
      ctx = c;
      if (!ctx.config.edge.internal.length) throw new ConfigError("mode: edge needs at least one internal server (edge.internal)");
      metrics = componentMetrics(ctx.metrics);
      ctx.router.useInternal({ deliver });
      sync();
      ctx.adminRoutes.push((app) =>
        app.get("/api/edge/links", async () => [...links.values()].map((l) => ({ name: l.name, state: l.state, problem: l.problem ?? null }))),
      );
      if (!ctx.config.partners.length) ctx.log.warn("mode: edge with no partners configured: no component streams to hold");
      ctx.log.info({ links: [...links.values()].map((l) => l.name) }, "component links started");
    },
    async stop(drainMs) {
      await Promise.race([Promise.all([...inbound.values()].map((i) => i.drain())), new Promise((r) => setTimeout(r, drainMs).unref())]);
      await Promise.all([...links.values()].map((l) => l.stop()));
    },
    async reload(c) {
      ctx = c;
      sync();
    },
  };
}
