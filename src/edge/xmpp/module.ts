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
import { domainOf } from "../../model/envelope.js";
import type { PeerAccess } from "../../tls/module.js";
import { DeliveryFailure } from "../../model/route.js";
import { StanzaError, StreamError, mayReplyWithError } from "../../xmpp/errors.js";
import { NS_SERVER } from "../../xmpp/ns.js";
import { refuseStream } from "../../xmpp/stream-header.js";
import { InboundSession, type InboundEnv } from "./inbound.js";
import { InboundQueue } from "./inbound-queue.js";
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
}

export function s2sModule(peers: S2sWiring): S2sModule {
  let ctx: GatewayContext;
  let pool: OutboundPool | undefined;
  let policy: PartnerPolicy;
  let acceptor: TlsAcceptor;
  let metrics: S2sMetrics;
  let plain: Server | undefined;
  let direct: TlsServer | undefined;
  const bound: { starttls?: AddressInfo; directTls?: AddressInfo } = {};
  const sessions = new Set<InboundSession>();
  const queues = new WeakMap<InboundSession, InboundQueue>();
  const perIp = new AddressCounter();

  const { trust, resolver } = peers;

  /** Each stream's stanzas keep their order through the router (see InboundQueue). */
  function onStanza(el: Element, session: InboundSession): void {
    let queue = queues.get(session);
    if (!queue) {
      queue = new InboundQueue(ctx.router, () => session.socket);
      queues.set(session, queue);
    }
    const q = queue;
    const seq = session.sm.take();
    q.push(rates.take(domainOf(el.attrs.from!)), () =>
      handle(el, session, q)
        .catch((err) => ctx.log.error({ err: (err as Error).message }, "s2s inbound stanza handling failed"))
        .finally(() => session.sm.handled(seq)),
    );
  }

  async function handle(el: Element, session: InboundSession, queue: InboundQueue): Promise<void> {
    const fromDomain = domainOf(el.attrs.from!);
    const toDomain = domainOf(el.attrs.to!);
    if (isDomainIq(el)) {
      const reply = answerDomainIq(el);
      if (reply) await sendBack(toDomain, fromDomain, reply);
      return;
    }
    const cert = session.peerCertificate();
    const env = stanzaToEnvelope(el, fromDomain, {
      auth: session.authenticated.get(fromDomain) === "certificate" ? "certificate" : "dialback",
      tlsVersion: session.tlsVersion(),
      certFingerprint: cert?.fingerprint256,
      remoteAddress: session.remoteAddress,
    });
    const result = await queue.lane.route(env);
    metrics.stanzas.inc({ direction: "inbound", result: result.delivered ? "delivered" : "refused" });
    if (!result.delivered) {
      ctx.log.info({ id: env.id, from: fromDomain, condition: result.error.condition }, "s2s inbound stanza refused");
      if (mayReplyWithError(el)) await sendBack(toDomain, fromDomain, StanzaError.from(result.error, toDomain).toElement(el));
    }
  }

  async function sendBack(local: string, remote: string, el: Element): Promise<void> {
    try {
      await pool!.send(local, remote, el);
    } catch (err) {
      ctx.log.info({ remote, err: (err as Error).message }, "s2s could not return a reply to the sender's server");
    }
  }

  function accept(socket: Socket, directTls: boolean): void {
    const cfg = ctx.config.s2s;
    const address = socket.remoteAddress ?? "unknown";
    if (!perIp.acquire(address, cfg.max_streams_per_ip)) {
      ctx.log.warn({ address }, "s2s: too many streams from one address");
      metrics.streamErrors.inc({ condition: "policy-violation" });
      if (directTls) return void socket.destroy();
      socket.on("error", () => undefined);
      socket.end(refuseStream(NS_SERVER, new StreamError("policy-violation", "too many streams from this address")));
      return;
    }
    const env: InboundEnv = {
      log: ctx.log,
      maxStanzaBytes: cfg.max_stanza_bytes,
      policy,
      trust,
      tls: acceptor,
      requireTls: cfg.require_tls,
      authTimeoutMs: cfg.auth_timeout_ms,
      idleTimeoutMs: cfg.idle_timeout_ms,
      dialbackSecret: secret,
      verifyDialback: (req) => pool!.verify(req),
      onStanza,
      confirm: peers.confirm?.(),
    };
    const session = new InboundSession(socket, env, directTls);
    sessions.add(session);
    metrics.inboundStreams.inc();
    session.on("streamError", (err: StreamError) => {
      metrics.streamErrors.inc({ condition: err.condition });
      if (session.claimedDomain) health.failure(session.claimedDomain, "inbound", err.text ?? err.condition);
    });
    session.on("authenticated", (domain: string, how: string) =>
      health.stream(domain, "inbound", { auth: how, tlsVersion: session.tlsVersion() ?? null, cert: certSummary(session.peerCertificate()) }));
    session.once("closed", () => {
      sessions.delete(session);
      perIp.release(address);
      metrics.inboundStreams.dec();
    });
  }

  let secret = "";
  let rates: RateLimits;
  const health = new PartnerHealth();

  return {
    name: "s2s",
    health,
    get pool() {
      return pool;
    },
    addresses: () => ({ ...bound }),
    async start(c) {
      ctx = c;
      const cfg = ctx.config.s2s;
      metrics = s2sMetrics(ctx.metrics);
      policy = new PartnerPolicy(ctx.config, ctx.federation);
      secret = cfg.dialback_secret || randomSecret();
      rates = new RateLimits((d) => policy.settings(d));
      acceptor = new TlsAcceptor(ctx.certs, trust(), ctx.config.tls.min_version);
      pool = new OutboundPool({
        health,
        log: ctx.log,
        maxStanzaBytes: cfg.max_stanza_bytes,
        certs: ctx.certs,
        trust,
        resolver,
        policy,
        requireTls: cfg.require_tls,
        minVersion: ctx.config.tls.min_version,
        connectTimeoutMs: cfg.connect_timeout_ms,
        idleTimeoutMs: cfg.idle_timeout_ms,
        queueMax: cfg.queue_max,
        dialbackSecret: secret,
      });
      const p = pool;
      ctx.router.useRemote("xmpp", {
        async deliver(envelope) {
          // The stream goes to the recipient's own domain (a partner's MUC service is a domain of its own);
          // the partner entry it belongs to sets the policy and profile.
          const remote = domainOf(envelope.to);
          const local = domainOf(envelope.from);
          if (!policy.hosted(local)) throw new DeliveryFailure({ condition: "not-allowed", type: "cancel", text: `${local} is not hosted here` }, true);
          const partner = policy.settings(envelope.partnerDomain ?? remote);
          if (!partner.allowed) throw new DeliveryFailure({ condition: "not-allowed", type: "cancel", text: partner.reason }, true);
          if (policy.denied(remote)) throw new DeliveryFailure({ condition: "not-allowed", type: "cancel", text: `federation with ${remote} is denied` }, true);
          const profile = partner.profile === "xmpp-basic" ? "xmpp-basic" : "xmpp-rich";
          await p.send(local, remote, envelopeToStanza(envelope, profile));
          metrics.stanzas.inc({ direction: "outbound", result: "sent" });
        },
      });
      if (cfg.starttls.enabled) {
        plain = createNetServer((s) => accept(s, false));
        const a = await listen(plain, cfg.starttls.host, cfg.starttls.port, "s2s STARTTLS listener");
        bound.starttls = { address: a.host, port: a.port, family: "IPv4" };
      }
      if (cfg.direct_tls.enabled) {
        direct = createTlsServer(acceptor.serverOptions(), (s) => accept(s, true));
        direct.on("tlsClientError", (err) => ctx.log.debug({ err: err.message }, "s2s direct TLS handshake failed"));
        const a = await listen(direct, cfg.direct_tls.host, cfg.direct_tls.port, "s2s direct TLS listener");
        bound.directTls = { address: a.host, port: a.port, family: "IPv4" };
      }
      ctx.readiness.set("s2s", () => (plain?.listening === false || direct?.listening === false ? "s2s listeners not bound" : undefined));
      ctx.log.info({ starttls: bound.starttls, directTls: bound.directTls }, "s2s listening");
    },
    async stop(drainMs) {
      plain?.close();
      direct?.close();
      // In-flight stanzas finish routing before their streams close.
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.all([...sessions].map((s) => queues.get(s)?.idle())),
        new Promise((r) => (timer = setTimeout(r, drainMs))),
      ]);
      // A pending drain timer would hold the process open for the whole drain time.
      clearTimeout(timer);
      for (const s of sessions) s.fail(new StreamError("system-shutdown"));
      await pool?.close(drainMs);
    },
    async reload(c) {
      ctx = c;
      policy.update(c.config);
      const t = trust();
      acceptor.setTrust(t);
      direct?.setSecureContext(acceptor.serverOptions());
    },
  };
}
