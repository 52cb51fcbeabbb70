/**
 * Split mode, the edge side: component streams (XEP-0114) to the internal
 * XMPP servers, one per (internal server, partner domain). It is the router's
 * internal delivery target: a partner's stanza for a hosted user goes to the
 * server hosting that user's domain, on the stream of the partner's domain,
 * so it enters with the partner's own from-address. What internal users send
 * to a partner arrives on that partner's stream and goes to the router as an
 * outbound Envelope (compliance, archive, then s2s or SIP).
 */
import type { PresenceStates } from "../../mapping/state-map.js";
import type { GatewayModule, Provider } from "../../module.js";
import type { TrustStore } from "../../tls/trust.js";
import { ConfigError } from "../../errors.js";
import type { ComponentLink } from "./link.js";
import { ComponentLinks } from "./links.js";
import { componentMetrics } from "./metrics.js";
import type { DeliveryConfirm } from "../xmpp/s2s-sm.js";

export { internalRoutes } from "./links.js";

export interface ComponentModule extends GatewayModule {
  /** The links, keyed "server-index:partner-domain" (tests and admin look at them). */
  readonly links: ReadonlyMap<string, ComponentLink>;
  /** Inbound s2s streams acknowledge partners' stanzas (XEP-0198) only once these links confirm them. */
  readonly confirmer: DeliveryConfirm | undefined;
}

/** @param trust whom TLS component streams to the internal servers trust. */
export function componentModule(trust: Provider<TrustStore>, states?: PresenceStates): ComponentModule {
  let set: ComponentLinks | undefined;
  return {
    name: "component",
    get confirmer() {
      return set;
    },
    get links() {
      return set?.links ?? new Map<string, ComponentLink>();
    },
    async start(ctx) {
      if (!ctx.config.edge.internal.length) throw new ConfigError("mode: edge needs at least one internal server (edge.internal)");
      const links = new ComponentLinks(ctx, componentMetrics(ctx.metrics), trust, states);
      set = links;
      ctx.router.useInternal({ deliver: (e) => links.deliver(e) });
      links.sync(ctx);
      ctx.adminRoutes.push((app) =>
        app.get("/api/edge/links", async () => [...links.links.values()].map((l) => ({ name: l.name, state: l.state, problem: l.problem ?? null }))),
      );
      if (!ctx.config.partners.length) ctx.log.warn("mode: edge with no partners configured: no component streams to hold");
      ctx.log.info({ links: [...links.links.values()].map((l) => l.name) }, "component links started");
    },
    async stop(drainMs) {
      await set?.stop(drainMs);
    },
    async reload(ctx) {
      set?.sync(ctx);
    },
  };
}
