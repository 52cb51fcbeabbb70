/**
 * The set of component links the config asks for, one per (internal server,
 * partner domain), kept in step with the config on reload, and delivery of a
 * partner's Envelope onto the right one.
 */
import type { PresenceStates } from "../../mapping/state-map.js";
import type { GatewayContext } from "../../module.js";
import { ConfigError } from "../../errors.js";
import { domainOf, type Envelope } from "../../model/envelope.js";
import { DeliveryFailure } from "../../model/route.js";
import type { TrustStore } from "../../tls/trust.js";
import type { InternalServer } from "../../config/sections/edge.js";
import { envelopeToComponentStanza } from "../../xmpp/index.js";
import { ComponentLink } from "./link.js";
import type { ComponentMetrics } from "./metrics.js";
import { LinkInbound } from "./inbound.js";
import { internalCopy } from "./copies.js";

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

export class ComponentLinks {
  readonly links = new Map<string, ComponentLink>();
  private routes = new Map<string, number>();
  private readonly inbound = new Map<ComponentLink, LinkInbound>();
  /** Partners' stanzas waiting for a link to come (back) online, per link. */
  private readonly waiting = new Map<ComponentLink, number>();
  /** Links lost with deliveries not yet confirmed by their server (see DeliveryConfirm). */
  private losses = 0;

  constructor(
    private ctx: GatewayContext,
    private readonly metrics: ComponentMetrics,
    private readonly trust: () => TrustStore,
    private readonly states?: PresenceStates,
  ) {}

  private makeLink(server: InternalServer, partner: string): ComponentLink {
    const e = this.ctx.config.edge;
    const link = new ComponentLink({
      log: this.ctx.log,
      domain: partner,
      host: server.host,
      port: server.port,
      secret: server.secret,
      tls: server.tls ? { ca: this.trust().ca, servername: server.tls_name ?? server.host } : undefined,
      maxStanzaBytes: e.max_stanza_bytes,
      connectTimeoutMs: e.connect_timeout_ms,
      reconnectInitialMs: e.reconnect_initial_ms,
      reconnectMaxMs: Math.max(e.reconnect_max_ms, e.reconnect_initial_ms),
      // Unsent bytes are stanzas the internal server has not read yet: bounded by count, and never past 16 MiB.
      maxUnsentBytes: Math.min(e.queue_max * e.max_stanza_bytes, 16 * 1024 * 1024),
      serverDomain: server.domains[0]!.toLowerCase(),
    });
    link.on("unconfirmed", (n) => {
      this.losses++;
      this.ctx.log.warn({ link: link.name, stanzas: n }, "component stream lost with deliveries the internal server had not confirmed");
    });
    const hosted = new Set(server.domains.map((d) => d.toLowerCase()));
    this.inbound.set(link, new LinkInbound(link, { log: this.ctx.log, router: this.ctx.router, hosted, metrics: this.metrics }));
    link.on("online", () => this.metrics.online.inc());
    link.on("offline", () => this.metrics.online.dec());
    return link;
  }

  /** Starts the links the config asks for and stops those it no longer does (a changed secret or host needs a restart). */
  sync(ctx: GatewayContext): void {
    this.ctx = ctx;
    this.routes = internalRoutes(ctx.config.domains, ctx.config.edge.internal);
    const want = new Map<string, [InternalServer, string]>();
    ctx.config.edge.internal.forEach((s, i) => {
      for (const p of ctx.config.partners) want.set(keyOf(i, p.domain.toLowerCase()), [s, p.domain.toLowerCase()]);
    });
    for (const [key, link] of this.links) {
      if (want.has(key)) continue;
      if (link.state === "online") this.metrics.online.dec();
      void link.stop();
      this.inbound.delete(link);
      this.links.delete(key);
      ctx.readiness.delete(`component ${link.name}`);
    }
    for (const [key, [server, partner]] of want) {
      if (this.links.has(key)) continue;
      const link = this.makeLink(server, partner);
      this.links.set(key, link);
      ctx.readiness.set(`component ${link.name}`, () => (link.state === "online" ? undefined : `component stream ${link.name} is ${link.standby ? "standby" : link.state}: ${link.problem ?? ""}`));
      link.start();
    }
  }

  /** The router's internal target: the server hosting the recipient, on the stream of the sender's partner domain. */
  async deliver(envelope: Envelope): Promise<void> {
    const hostedDomain = domainOf(envelope.to);
    const server = this.routes.get(hostedDomain);
    if (server === undefined) throw new DeliveryFailure({ condition: "service-unavailable", type: "cancel", text: `no internal server hosts ${hostedDomain}` });
    const { link, stanza } = this.pick(server, envelope);
    if (link.state !== "online") await this.waitFor(link);
    try {
      link.send(envelopeToComponentStanza(stanza, "xmpp-rich", this.states?.current));
    } catch (err) {
      this.metrics.stanzas.inc({ direction: "to-internal", result: "refused" });
      if (err instanceof RangeError) throw new DeliveryFailure({ condition: "resource-constraint", type: "wait", text: "internal server is not keeping up" });
      throw new DeliveryFailure({ condition: "remote-server-timeout", type: "wait", text: "internal server unreachable" });
    }
    this.metrics.stanzas.inc({ direction: "to-internal", result: "sent" });
  }

  /** The stream a partner's envelope enters on: its partner's; a hosted sender's (a compliance copy) goes on one of the server's. */
  private pick(server: number, envelope: Envelope): { link: ComponentLink; stanza: Envelope } {
    const fromDomain = domainOf(envelope.from);
    if (!envelope.partnerDomain && this.routes.has(fromDomain)) {
      const copy = internalCopy(envelope, [...this.links.entries()].filter(([k]) => k.startsWith(`${server}:`)).map(([, l]) => l));
      if (!copy) throw new DeliveryFailure({ condition: "service-unavailable", type: "cancel", text: "no component stream on the recipient's internal server" });
      return { link: copy.link, stanza: copy.envelope };
    }
    const partner = (envelope.partnerDomain ?? fromDomain).toLowerCase();
    const link = this.links.get(keyOf(server, partner));
    if (!link) throw new DeliveryFailure({ condition: "service-unavailable", type: "cancel", text: `no component stream for ${partner}` });
    return { link, stanza: envelope };
  }

  /** DeliveryConfirm: how many links were lost with deliveries unconfirmed. */
  epoch(): number {
    return this.losses;
  }

  /** DeliveryConfirm: resolves once every delivery made so far is confirmed; rejects on a loss after `since`. */
  async confirm(since: number): Promise<void> {
    const lostSince = () => {
      if (this.losses !== since) throw new Error("a component stream was lost with deliveries unconfirmed");
    };
    lostSince();
    await Promise.all([...this.links.values()].map((l) => l.confirm()));
    lostSince();
  }

  /** A stream that is (re)connecting gets a short, bounded grace; then the partner hears why. */
  private async waitFor(link: ComponentLink): Promise<void> {
    const n = this.waiting.get(link) ?? 0;
    if (n >= this.ctx.config.edge.queue_max) {
      throw new DeliveryFailure({ condition: "resource-constraint", type: "wait", text: "too many stanzas waiting for the internal server" });
    }
    this.waiting.set(link, n + 1);
    try {
      if (!(await link.waitOnline(this.ctx.config.edge.deliver_wait_ms))) {
        this.metrics.stanzas.inc({ direction: "to-internal", result: "timeout" });
        throw new DeliveryFailure({ condition: "remote-server-timeout", type: "wait", text: "internal server unreachable" });
      }
    } finally {
      this.waiting.set(link, (this.waiting.get(link) ?? 1) - 1);
    }
  }

  /** Routes what was taken in, then ends every stream. */
  async stop(drainMs: number): Promise<void> {
    await Promise.race([Promise.all([...this.inbound.values()].map((i) => i.drain())), new Promise((r) => setTimeout(r, drainMs).unref())]);
    await Promise.all([...this.links.values()].map((l) => l.stop()));
  }
}
