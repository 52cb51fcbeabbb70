/**
 * Split mode, the inside (mode: core): demarc's core behind a demarc edge.
 * The edge's component streams (XEP-0114, accepted here over TLS with the
 * shared secret) are the core's only way out: they are the router's remote
 * target for every partner domain, XMPP or SIP alike (the edge decides the
 * protocol). Partners' stanzas arriving on them were decided and archived by
 * the edge; the core archives its own record and delivers them without
 * running the policy a second time.
 */
import { createServer as createNetServer, type Server, type Socket } from "node:net";
import { createServer as createTlsServer } from "node:tls";
import { ServerTls } from "../../xmpp/tls.js";
import type { GatewayContext, GatewayModule } from "../../module.js";
import { listen } from "../../listen.js";
import { ConfigError } from "../../errors.js";
import { domainOf, type Envelope } from "../../model/envelope.js";
import { DeliveryFailure, type Decision, type RouteResult } from "../../model/route.js";
import { StanzaError, answerDomainIq, isDomainIq, envelopeToComponentStanza, inComponentNamespace, mayReplyWithError, stanzaToEnvelope, type Element } from "../../xmpp/index.js";
import { ComponentSession } from "./session.js";

export interface CoreLinkModule extends GatewayModule {
  address(): { host: string; port: number } | undefined;
}

/** The edge's verdict stands: recorded as such in the core's archive. */
const decidedAtEdge = (envelope: Envelope): Decision => ({
  deliver: true,
  envelope,
  policyVersion: "edge",
  verdicts: [{ stage: "edge", action: "allow", reason: "decided and archived by the edge" }],
});

/** A stanza from an edge: its partner's own address, for a hosted user; the edge's decision stands. */
async function handle(ctx: GatewayContext, session: ComponentSession, el: Element): Promise<void> {
  if (el.name !== "message" && el.name !== "presence" && el.name !== "iq") return;
  const { from, to } = el.attrs;
  const problem =
    !from || !to ? new StanzaError("bad-request", "from and to are required")
    : domainOf(from) !== session.domain ? new StanzaError("forbidden", `this stream serves ${session.domain}`)
    : !ctx.federation().hosts(domainOf(to)) ? new StanzaError("item-not-found", `${domainOf(to)} is not hosted here`)
    : undefined;
  if (!problem && isDomainIq(el)) {
    // Pings to the domain are how an edge confirms that what it sent before them was handled (in order).
    const answer = answerDomainIq(el);
    if (answer && session.online) session.write(inComponentNamespace(answer));
    return;
  }
  let result: RouteResult;
  if (problem) {
    result = { delivered: false, error: { condition: problem.condition, text: problem.text, type: problem.type } };
  } else {
    const env = stanzaToEnvelope(el, session.domain, { auth: "password", tlsVersion: session.tlsVersion(), remoteAddress: session.remoteAddress });
    result = await ctx.router.deliverDecided(env, decidedAtEdge(env));
  }
  if (result.delivered || !mayReplyWithError(el)) return;
  try {
    session.write(inComponentNamespace(StanzaError.from(result.error, domainOf(to ?? session.domain)).toElement(el)));
  } catch {
    // The stream went away: the edge times the stanza out for the partner.
  }
}

export function coreLinkModule(): CoreLinkModule {
  let ctx: GatewayContext;
  let server: Server | undefined;
  let bound: { host: string; port: number } | undefined;
  const held = new Map<string, ComponentSession>();
  const sessions = new Set<ComponentSession>();
  const chains = new WeakMap<ComponentSession, Promise<void>>();

  const hosted = () => ctx.federation().hosted;
  const partnerOf = (domain: string) => [...ctx.federation().partners.values()].find((p) => domain === p.domain.toLowerCase() || domain.endsWith(`.${p.domain.toLowerCase()}`));

  function accept(socket: Socket): void {
    const cfg = ctx.config.core_link;
    const session = new ComponentSession(socket, {
      log: ctx.log,
      secret: cfg.secret,
      maxStanzaBytes: cfg.max_stanza_bytes,
      handshakeTimeoutMs: cfg.handshake_timeout_ms,
      allowed: (d) => !hosted().has(d) && partnerOf(d) !== undefined,
      claim: (d, s) => {
        const current = held.get(d);
        if (current && !current.closed) return false;
        held.set(d, s);
        return true;
      },
    });
    sessions.add(session);
    session.on("stanza", (el) => {
      const next = (chains.get(session) ?? Promise.resolve()).then(() => handle(ctx, session, el)).catch((err) => ctx.log.error({ err: (err as Error).message }, "edge component stanza handling failed"));
      chains.set(session, next);
    });
    session.on("closed", () => {
      sessions.delete(session);
      if (held.get(session.domain) === session) {
        held.delete(session.domain);
        ctx.log.warn({ domain: session.domain }, "edge component stream closed");
      }
    });
  }

  async function deliver(envelope: Envelope): Promise<void> {
    const partner = (envelope.partnerDomain ?? domainOf(envelope.to)).toLowerCase();
    const session = held.get(partner);
    if (!session?.online) throw new DeliveryFailure({ condition: "remote-server-timeout", type: "wait", text: `no edge holds the component for ${partner}` });
    session.write(envelopeToComponentStanza(envelope, "xmpp-rich"));
  }

  return {
    name: "core-link",
    address: () => bound,
    async start(c) {
      ctx = c;
      const cfg = ctx.config.core_link;
      if (!cfg.secret) throw new ConfigError("mode: core needs core_link.secret (the edges' component secret)");
      ctx.router.useRemote("xmpp", { deliver });
      ctx.router.useRemote("sip", { deliver });
      server = cfg.tls
        ? createTlsServer(new ServerTls({ certs: ctx.certs, minVersion: ctx.config.tls.min_version }).serverOptions(), accept)
        : createNetServer(accept);
      server.on("tlsClientError", (err: Error) => ctx.log.info({ err: err.message }, "edge component TLS handshake failed"));
      bound = await listen(server, cfg.listen.host, cfg.listen.port, "core link listener");
      ctx.readiness.set("core-link", () => (server?.listening ? undefined : "core link listener not bound"));
      ctx.adminRoutes.push((app) => app.get("/api/core/links", async () => [...held.entries()].map(([domain, s]) => ({ domain, remote: s.remoteAddress, online: s.online }))));
      ctx.log.info({ ...bound, tls: cfg.tls }, "core link listening for edge component streams");
    },
    async stop(drainMs) {
      server?.close();
      await Promise.race([Promise.all([...sessions].map((s) => chains.get(s))), new Promise((r) => setTimeout(r, drainMs).unref())]);
      for (const s of sessions) s.end();
    },
  };
}
