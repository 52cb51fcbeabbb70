/**
 * The XMPP s2s edge as a gateway module: the STARTTLS (5269) and direct TLS
 * (5270, XEP-0368) listeners, the outbound pool as the router's remote target
 * for XMPP partners, and inbound stanzas turned into Envelopes for the router.
 * A refused inbound stanza goes back to its sender as a stanza error over our
 * outbound stream (s2s streams are one-way, RFC 6120 section 4.1).
 */
import { createServer as createNetServer, type AddressInfo, type Server, type Socket } from "node:net";
import { createServer as createTlsServer, type Server as TlsServer } from "node:tls";
import type { GatewayContext, GatewayModule } from "../../module.js";
import { listen } from "../../listen.js";
import { domainOf, type Envelope, type SecurityContext } from "../../model/envelope.js";
import type { PeerAccess } from "../../tls/module.js";
import { DeliveryFailure } from "../../model/route.js";
import { StanzaError, StreamError, mayReplyWithError, stanzaHead } from "../../xmpp/errors.js";
import { NS_SERVER } from "../../xmpp/ns.js";
import { refuseStream } from "../../xmpp/stream-header.js";
import { InboundSession, type InboundEnv } from "./inbound.js";
import { InboundQueue } from "./inbound-queue.js";
import { securityOf } from "./security.js";
import { OutboundPool } from "./pool.js";
import { PartnerPolicy } from "./policy.js";
import { RateLimits } from "./limits.js";
import { AddressCounter } from "../../xmpp/address-counter.js";
import { TlsAcceptor } from "./tls.js";
import { randomSecret } from "./dialback-keys.js";
import { envelopeToStanza, stanzaToEnvelope } from "../../xmpp/translate.js";
import { answerDomainIq, isDomainIq } from "../../xmpp/domain-iq.js";
import { s2sMetrics, type S2sMetrics } from "./metrics.js";
import { certSummary, PartnerHealth } from "./health.js";
import type { Element } from "../../xmpp/xml.js";
import type { DeliveryConfirm } from "./s2s-sm.js";
import type { PresenceStates } from "../../mapping/state-map.js";

export interface S2sModule extends GatewayModule {
  /** Where the listeners are bound (after start). */
  addresses(): { starttls?: AddressInfo; directTls?: AddressInfo };
  /** The outbound pool (tests and admin look at it). */
  readonly pool: OutboundPool | undefined;
  /** What each partner's streams last did (the console's partner page). */
  readonly health: PartnerHealth;
}

export interface S2sWiring extends PeerAccess {
  /** Split mode: deliveries to confirm before partners' stanzas are acknowledged (XEP-0198). */
  confirm?: (() => DeliveryConfirm | undefined) | undefined;
  /** The presence state map in force; the shipped one without it. */
  states?: PresenceStates | undefined;
}

const DONE: Promise<void> = Promise.resolve();

/** What the edge keeps per inbound stream. */
interface InboundState {
  queue: InboundQueue;
  /** Per authenticated domain (see securityOf). */
  security: Map<string, SecurityContext>;
}

/** The edge's running state; the module below hands it the gateway's lifecycle calls. */
class S2sEdge {
  ctx!: GatewayContext;
  pool: OutboundPool | undefined;
  policy!: PartnerPolicy;
  acceptor!: TlsAcceptor;
  metrics!: S2sMetrics;
  plain: Server | undefined;
  direct: TlsServer | undefined;
  secret = "";
  rates!: RateLimits;
  readonly health = new PartnerHealth();
  readonly bound: { starttls?: AddressInfo; directTls?: AddressInfo } = {};
  private readonly sessions = new Set<InboundSession>();
  private readonly inbound = new WeakMap<InboundSession, InboundState>();
  private readonly perIp = new AddressCounter();

  constructor(private readonly peers: S2sWiring) {}

  async start(ctx: GatewayContext): Promise<void> {
    this.ctx = ctx;
    const cfg = ctx.config.s2s;
    this.metrics = s2sMetrics(ctx.metrics);
    const policy = (this.policy = new PartnerPolicy(ctx.config, ctx.federation));
    this.secret = cfg.dialback_secret || randomSecret();
    this.rates = new RateLimits((d) => policy.settings(d));
    this.acceptor = new TlsAcceptor(ctx.certs, this.peers.trust(), ctx.config.tls.min_version);
    this.pool = new OutboundPool({
      health: this.health,
      log: ctx.log,
      maxStanzaBytes: cfg.max_stanza_bytes,
      certs: ctx.certs,
      trust: this.peers.trust,
      resolver: this.peers.resolver,
      policy,
      requireTls: cfg.require_tls,
      minVersion: ctx.config.tls.min_version,
      connectTimeoutMs: cfg.connect_timeout_ms,
      idleTimeoutMs: cfg.idle_timeout_ms,
      queueMax: cfg.queue_max,
      dialbackSecret: this.secret,
    });
    ctx.router.useRemote("xmpp", { deliver: (envelope) => this.deliver(envelope) });
    await this.listen();
    ctx.readiness.set("s2s", () => (this.plain?.listening === false || this.direct?.listening === false ? "s2s listeners not bound" : undefined));
    ctx.log.info({ starttls: this.bound.starttls, directTls: this.bound.directTls }, "s2s listening");
  }

  private async listen(): Promise<void> {
    const cfg = this.ctx.config.s2s;
    if (cfg.starttls.enabled) {
      this.plain = createNetServer((s) => this.accept(s, false));
      const a = await listen(this.plain, cfg.starttls.host, cfg.starttls.port, "s2s STARTTLS listener");
      this.bound.starttls = { address: a.host, port: a.port, family: "IPv4" };
    }
    if (cfg.direct_tls.enabled) {
      this.direct = createTlsServer(this.acceptor.serverOptions(), (s) => this.accept(s, true));
      this.direct.on("tlsClientError", (err) => this.ctx.log.debug({ err: err.message }, "s2s direct TLS handshake failed"));
      const a = await listen(this.direct, cfg.direct_tls.host, cfg.direct_tls.port, "s2s direct TLS listener");
      this.bound.directTls = { address: a.host, port: a.port, family: "IPv4" };
    }
  }

  /** The router's remote target for XMPP partners. */
  private async deliver(envelope: Envelope): Promise<void> {
    const policy = this.policy;
    // The stream goes to the recipient's own domain (a partner's MUC service is a domain of its own);
    // the partner entry it belongs to sets the policy and profile.
    const remote = domainOf(envelope.to);
    const local = domainOf(envelope.from);
    if (!policy.hosted(local)) throw new DeliveryFailure({ condition: "not-allowed", type: "cancel", text: `${local} is not hosted here` }, true);
    const partnerDomain = envelope.partnerDomain ?? remote;
    const partner = policy.settings(partnerDomain);
    if (!partner.allowed) throw new DeliveryFailure({ condition: "not-allowed", type: "cancel", text: partner.reason }, true);
    // When the partner entry is the recipient's domain itself, its settings already refused it if denied.
    if (partnerDomain !== remote && policy.denied(remote)) throw new DeliveryFailure({ condition: "not-allowed", type: "cancel", text: `federation with ${remote} is denied` }, true);
    const profile = partner.profile === "xmpp-basic" ? "xmpp-basic" : "xmpp-rich";
    await this.pool!.send(local, remote, envelopeToStanza(envelope, profile, this.peers.states?.current));
    this.metrics.counts.sent++;
  }

  /** Each stream's stanzas keep their order through the router (see InboundQueue). */
  private onStanza(el: Element, session: InboundSession, fromDomain: string, toDomain: string): void {
    let state = this.inbound.get(session);
    if (!state) {
      const queue = new InboundQueue(this.ctx.router, () => session.socket, (e, from, to, seq) => this.handle(e, session, state!, from, to, seq));
      state = { queue, security: new Map() };
      this.inbound.set(session, state);
    }
    state.queue.push(this.rates.take(fromDomain), el, fromDomain, toDomain, session.sm.take());
  }

  /**
   * One stanza of an inbound stream, in its turn; `seq` is its XEP-0198
   * count, acknowledged once handled. The element itself is let go once its
   * envelope is made: what waits for the route's result keeps only its head.
   */
  private handle(el: Element, session: InboundSession, state: InboundState, fromDomain: string, toDomain: string, seq: number | undefined): Promise<void> {
    let env: Envelope;
    try {
      if (isDomainIq(el)) return this.answerDomainIq(el, session, fromDomain, toDomain, seq);
      env = stanzaToEnvelope(el, fromDomain, securityOf(session, state.security, fromDomain));
    } catch (err) {
      this.handlingFailed(err);
      session.sm.handled(seq);
      return DONE;
    }
    return this.routeInbound(env, stanzaHead(el), session, state.queue, fromDomain, toDomain, seq);
  }

  private async routeInbound(env: Envelope, head: Element, session: InboundSession, queue: InboundQueue, fromDomain: string, toDomain: string, seq: number | undefined): Promise<void> {
    try {
      const result = await queue.lane.route(env);
      if (result.delivered) return void this.metrics.counts.delivered++;
      this.metrics.counts.refused++;
      this.ctx.log.info({ id: env.id, from: fromDomain, condition: result.error.condition }, "s2s inbound stanza refused");
      if (mayReplyWithError(head)) await this.sendBack(toDomain, fromDomain, StanzaError.from(result.error, toDomain).toElement(head));
    } catch (err) {
      this.handlingFailed(err);
    } finally {
      session.sm.handled(seq);
    }
  }

  private async answerDomainIq(el: Element, session: InboundSession, fromDomain: string, toDomain: string, seq: number | undefined): Promise<void> {
    try {
      const reply = answerDomainIq(el);
      if (reply) await this.sendBack(toDomain, fromDomain, reply);
    } catch (err) {
      this.handlingFailed(err);
    } finally {
      session.sm.handled(seq);
    }
  }

  private handlingFailed(err: unknown): void {
    this.ctx.log.error({ err: (err as Error).message }, "s2s inbound stanza handling failed");
  }

  private async sendBack(local: string, remote: string, el: Element): Promise<void> {
    try {
      await this.pool!.send(local, remote, el);
    } catch (err) {
      this.ctx.log.info({ remote, err: (err as Error).message }, "s2s could not return a reply to the sender's server");
    }
  }

  private accept(socket: Socket, directTls: boolean): void {
    const cfg = this.ctx.config.s2s;
    const address = socket.remoteAddress ?? "unknown";
    if (!this.perIp.acquire(address, cfg.max_streams_per_ip)) {
      this.ctx.log.warn({ address }, "s2s: too many streams from one address");
      this.metrics.streamErrors.inc({ condition: "policy-violation" });
      if (directTls) return void socket.destroy();
      socket.on("error", () => undefined);
      socket.end(refuseStream(NS_SERVER, new StreamError("policy-violation", "too many streams from this address")));
      return;
    }
    const env: InboundEnv = {
      log: this.ctx.log,
      maxStanzaBytes: cfg.max_stanza_bytes,
      policy: this.policy,
      trust: this.peers.trust,
      tls: this.acceptor,
      requireTls: cfg.require_tls,
      authTimeoutMs: cfg.auth_timeout_ms,
      idleTimeoutMs: cfg.idle_timeout_ms,
      dialbackSecret: this.secret,
      verifyDialback: (req) => this.pool!.verify(req),
      onStanza: (el, session, from, to) => this.onStanza(el, session, from, to),
      confirm: this.peers.confirm?.(),
    };
    const session = new InboundSession(socket, env, directTls);
    this.watch(session, address);
  }

  private watch(session: InboundSession, address: string): void {
    this.sessions.add(session);
    this.metrics.inboundStreams.inc();
    session.on("streamError", (err: StreamError) => {
      this.metrics.streamErrors.inc({ condition: err.condition });
      if (session.claimedDomain) this.health.failure(session.claimedDomain, "inbound", err.text ?? err.condition);
    });
    session.on("authenticated", (domain: string, how: string) =>
      this.health.stream(domain, "inbound", { auth: how, tlsVersion: session.tlsVersion() ?? null, cert: certSummary(session.peerCertificate()) }));
    session.once("closed", () => {
      this.sessions.delete(session);
      this.perIp.release(address);
      this.metrics.inboundStreams.dec();
    });
  }

  async stop(drainMs: number): Promise<void> {
    this.plain?.close();
    this.direct?.close();
    // In-flight stanzas finish routing before their streams close.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all([...this.sessions].map((s) => this.inbound.get(s)?.queue.idle())),
      new Promise((r) => (timer = setTimeout(r, drainMs))),
    ]);
    // A pending drain timer would hold the process open for the whole drain time.
    clearTimeout(timer);
    for (const s of this.sessions) s.fail(new StreamError("system-shutdown"));
    await this.pool?.close(drainMs);
  }

  reload(ctx: GatewayContext): void {
    this.ctx = ctx;
    this.policy.update(ctx.config);
    this.acceptor.setTrust(this.peers.trust());
    this.direct?.setSecureContext(this.acceptor.serverOptions());
  }
}

export function s2sModule(peers: S2sWiring): S2sModule {
  const edge = new S2sEdge(peers);
  return {
    name: "s2s",
    health: edge.health,
    get pool() {
      return edge.pool;
    },
    addresses: () => ({ ...edge.bound }),
    start: (ctx) => edge.start(ctx),
    stop: (drainMs) => edge.stop(drainMs),
    reload: async (ctx) => edge.reload(ctx),
  };
}
