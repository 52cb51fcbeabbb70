/**
 * The SIP/SIMPLE federation edge as a gateway module: listeners (TLS 5061,
 * TCP and UDP 5060), the request handlers, and the router's remote target
 * for protocol "sip". Also loads the partner state map (policies/state-map.yaml)
 * that every edge renders presence with.
 */
import { Gauge, type Registry } from "prom-client";
import type { GatewayContext, GatewayModule } from "../../module.js";
import { resolvePath } from "../../config/load.js";
import { DeliveryFailure, type DeliveryTarget } from "../../model/route.js";
import type { PeerAccess } from "../../tls/module.js";
import { loadStateMapFrom, type PresenceStates } from "../../mapping/state-map.js";
import { ALLOW_HEADER, response } from "./message.js";
import { SipEdge } from "./edge.js";
import { SipTransports } from "./transport.js";
import { onMessage, sendMessage } from "./im.js";
import { notify, onNotify, onSubscribe, PresenceMemory, sendPresence, sendSubscription } from "./presence.js";
import { PIDF_TYPE } from "../../mapping/pidf.js";
import { PresencePublications } from "./publish.js";
import type { WatcherDirectory } from "./watchers.js";

type SipModule = GatewayModule & { edge?: SipEdge; publications?: PresencePublications; stopNotifier?: (drainMs: number) => Promise<void> };

function transportsFor(ctx: GatewayContext, edge: SipEdge, trust: PeerAccess["trust"]): SipTransports {
  const limits = ctx.config.sip.limits;
  return new SipTransports(
    {
      maxHeaderBytes: limits.max_header_bytes,
      maxBodyBytes: limits.max_body_bytes,
      idleMs: limits.idle_ms,
      stallMs: limits.stall_ms,
      maxConnectionsPerAddress: limits.max_connections_per_address,
      connectTimeoutMs: limits.connect_timeout_ms,
      certFor: (name) => ctx.certs.forDomain(name) ?? ctx.certs.defaultCert,
      defaultContext: () => ctx.certs.defaultCert,
      ca: () => trust().ca,
      minVersion: ctx.config.tls.min_version,
    },
    { onMessage: (m, f) => edge.onMessage(m, f), onFramingError: (e, f) => edge.onFramingError(e, f), onClose: (f) => edge.client.flowClosed(f) },
  );
}

/** The router's remote target for SIP partners. */
function remoteTarget(edge: SipEdge, mem: PresenceMemory, pubs: PresencePublications): DeliveryTarget {
  return {
    async deliver(e) {
      switch (e.kind) {
        case "message":
        // The link travels in the body, which is all page-mode IM carries.
        case "file-transfer":
          return sendMessage(edge, e);
        case "presence":
          if (e.type === "probe" && pubs.answerProbe(e)) return;
          return sendPresence(edge, mem, e);
        case "subscription":
          return sendSubscription(edge, mem, e);
        default:
          throw new DeliveryFailure({ condition: "feature-not-implemented", type: "cancel", text: `${e.kind} has no SIP form` });
      }
    },
  };
}

function registerMetrics(registry: Registry, mod: SipModule): void {
  if (registry.getSingleMetric("demarc_sip_dialogs")) return;
  const gauge = (name: string, help: string, value: () => number) => new Gauge({ name, help, registers: [registry], collect() { this.set(value()); } });
  gauge("demarc_sip_dialogs", "SIP presence subscription dialogs", () => mod.edge?.dialogs.size ?? 0);
  gauge("demarc_sip_publications", "Presence publications (RFC 3903) held for partner users", () => mod.publications?.store.size ?? 0);
  gauge("demarc_sip_requests_total", "SIP requests received", () => mod.edge?.stats.requests ?? 0);
  gauge("demarc_sip_refused_total", "SIP requests refused by the per-address budget", () => mod.edge?.stats.refused ?? 0);
  gauge("demarc_sip_malformed_total", "SIP messages that could not be parsed or lacked required headers", () => mod.edge?.stats.malformed ?? 0);
}

export interface SipWiring extends PeerAccess {
  /** Who watches a hosted user's presence (the core); without one, publications reach nobody. */
  watchers?: (() => WatcherDirectory | undefined) | undefined;
  /** The gateway's presence state map: loaded here from the policy folder, read by every edge that renders presence. */
  states: PresenceStates;
}

export function sipModule(wiring: SipWiring): SipModule {
  let transports: SipTransports | undefined;
  const mod: SipModule = {
    name: "sip",
    async start(ctx: GatewayContext) {
      const cfg = ctx.config;
      wiring.states.use(loadStateMapFrom(resolvePath(cfg, cfg.policy.dir)));
      const log = ctx.log.child({ module: "sip" });
      const { trust } = wiring;
      const edge = new SipEdge(cfg, log, ctx.router, trust, wiring.resolver, ctx.federation);
      edge.states = () => wiring.states.current;
      const mem = new PresenceMemory();
      mod.edge = edge;
      const pubs = new PresencePublications(edge, () => wiring.watchers?.());
      mod.publications = pubs;
      transports = transportsFor(ctx, edge, trust);
      edge.transports = transports;

      edge.on("MESSAGE", (rq, flow, respond) => onMessage(edge, rq, flow, respond));
      edge.on("SUBSCRIBE", (rq, flow, respond) => onSubscribe(edge, mem, rq, flow, respond));
      edge.on("NOTIFY", (rq, flow, respond) => onNotify(edge, mem, rq, flow, respond));
      edge.on("PUBLISH", (rq, flow, respond) => pubs.onPublish(rq, flow, respond));
      edge.on("OPTIONS", async (rq, _flow, respond) => {
        respond(response(rq, 200, "OK", { headers: { allow: ALLOW_HEADER, accept: `text/plain, ${PIDF_TYPE}`, "allow-events": "presence" } }));
      });

      ctx.router.useRemote("sip", remoteTarget(edge, mem, pubs));

      const s = cfg.sip;
      try {
        if (s.tls.enabled) edge.ports.TLS = (await transports.listenTls(s.tls.host, s.tls.port)).port;
        if (s.tcp.enabled) edge.ports.TCP = (await transports.listenTcp(s.tcp.host, s.tcp.port)).port;
        if (s.udp.enabled) edge.ports.UDP = (await transports.listenUdp(s.udp.host, s.udp.port)).port;
      } catch (err) {
        await transports.close();
        throw err;
      }
      if (edge.ports.TLS || edge.ports.TCP || edge.ports.UDP) log.info({ ports: edge.ports }, "SIP edge listening");

      registerMetrics(ctx.metrics, mod);
      mod.stopNotifier = async (drainMs: number) => {
        // RFC 6665 4.2.2: tell watchers the subscription ends because we are going away.
        const pending = edge.dialogs.all().filter((d) => d.role === "notifier").map((d) => notify(edge, mem, d, "terminated", "deactivated"));
        await Promise.race([Promise.allSettled(pending), new Promise((r) => setTimeout(r, Math.min(drainMs, 2_000)).unref())]);
      };
    },
    async reload(ctx: GatewayContext) {
      const map = loadStateMapFrom(resolvePath(ctx.config, ctx.config.policy.dir));
      wiring.states.use(map);
      mod.edge?.update(ctx.config);
      mod.publications?.update();
      transports?.refreshTls();
    },
    async stop(drainMs: number) {
      await mod.stopNotifier?.(drainMs);
      await transports?.close();
      mod.edge?.dialogs.clear();
      mod.publications?.store.clear();
      mod.edge?.server.clear();
      transports = undefined;
    },
  };
  return mod;
}
