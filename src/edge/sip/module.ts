/**
 * The SIP/SIMPLE federation edge as a gateway module: listeners (TLS 5061,
 * TCP and UDP 5060), the request handlers, and the router's remote target
 * for protocol "sip". Also loads the partner state map (policies/state-map.yaml)
 * that every edge renders presence with.
 */
import { Gauge } from "prom-client";
import type { GatewayContext, GatewayModule } from "../../module.js";
import { resolvePath } from "../../config/load.js";
import { DeliveryFailure, type DeliveryTarget } from "../../model/route.js";
import type { PeerAccess } from "../../tls/module.js";
import { loadStateMapFrom, useStateMap } from "../../mapping/state-map.js";
import { ALLOW_HEADER, response } from "./message.js";
import { SipEdge } from "./edge.js";
import { SipTransports } from "./transport.js";
import { onMessage, sendMessage } from "./im.js";
import { notify, onNotify, onSubscribe, PresenceMemory, sendPresence, sendSubscription } from "./presence.js";
import { PIDF_TYPE } from "../../mapping/pidf.js";
import { PresencePublications } from "./publish.js";
import type { WatcherDirectory } from "./watchers.js";

type SipModule = GatewayModule & { edge?: SipEdge; publications?: PresencePublications; stopNotifier?: (drainMs: number) => Promise<void> };

export interface SipWiring extends PeerAccess {
  /** Who watches a hosted user's presence (the core); without one, publications reach nobody. */
  watchers?: (() => WatcherDirectory | undefined) | undefined;
}

export function sipModule(wiring: SipWiring): SipModule {
  let transports: SipTransports | undefined;
  const mod: SipModule = {
    name: "sip",
    async start(ctx: GatewayContext) {
      const cfg = ctx.config;
      useStateMap(loadStateMapFrom(resolvePath(cfg, cfg.policy.dir)));
      const log = ctx.log.child({ module: "sip" });
      const { trust } = wiring;
      const edge = new SipEdge(cfg, log, ctx.router, trust, wiring.resolver, ctx.federation);
      const mem = new PresenceMemory();
      mod.edge = edge;
      const pubs = new PresencePublications(edge, () => wiring.watchers?.());
      mod.publications = pubs;
      const limits = cfg.sip.limits;
      transports = new SipTransports(
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
          minVersion: cfg.tls.min_version,
        },
        { onMessage: (m, f) => edge.onMessage(m, f), onFramingError: (e, f) => edge.onFramingError(e, f), onClose: (f) => edge.client.flowClosed(f) },
      );
      edge.transports = transports;

      edge.on("MESSAGE", (rq, flow, respond) => onMessage(edge, rq, flow, respond));
      edge.on("SUBSCRIBE", (rq, flow, respond) => onSubscribe(edge, mem, rq, flow, respond));
      edge.on("NOTIFY", (rq, flow, respond) => onNotify(edge, mem, rq, flow, respond));
      edge.on("PUBLISH", (rq, flow, respond) => pubs.onPublish(rq, flow, respond));
      edge.on("OPTIONS", async (rq, _flow, respond) => {
        respond(response(rq, 200, "OK", { headers: { allow: ALLOW_HEADER, accept: `text/plain, ${PIDF_TYPE}`, "allow-events": "presence" } }));
      });

      const target: DeliveryTarget = {
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
      ctx.router.useRemote("sip", target);

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

      if (!ctx.metrics.getSingleMetric("demarc_sip_dialogs")) {
        new Gauge({ name: "demarc_sip_dialogs", help: "SIP presence subscription dialogs", registers: [ctx.metrics], collect() { this.set(mod.edge?.dialogs.size ?? 0); } });
        new Gauge({ name: "demarc_sip_publications", help: "Presence publications (RFC 3903) held for partner users", registers: [ctx.metrics], collect() { this.set(mod.publications?.store.size ?? 0); } });
        new Gauge({ name: "demarc_sip_requests_total", help: "SIP requests received", registers: [ctx.metrics], collect() { this.set(mod.edge?.stats.requests ?? 0); } });
        new Gauge({ name: "demarc_sip_refused_total", help: "SIP requests refused by the per-address budget", registers: [ctx.metrics], collect() { this.set(mod.edge?.stats.refused ?? 0); } });
        new Gauge({ name: "demarc_sip_malformed_total", help: "SIP messages that could not be parsed or lacked required headers", registers: [ctx.metrics], collect() { this.set(mod.edge?.stats.malformed ?? 0); } });
      }
      mod.stopNotifier = async (drainMs: number) => {
        // RFC 6665 4.2.2: tell watchers the subscription ends because we are going away.
        const pending = edge.dialogs.all().filter((d) => d.role === "notifier").map((d) => notify(edge, mem, d, "terminated", "deactivated"));
        await Promise.race([Promise.allSettled(pending), new Promise((r) => setTimeout(r, Math.min(drainMs, 2_000)).unref())]);
      };
    },
    async reload(ctx: GatewayContext) {
      const map = loadStateMapFrom(resolvePath(ctx.config, ctx.config.policy.dir));
      useStateMap(map);
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
