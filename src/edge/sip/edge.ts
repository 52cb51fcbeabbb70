/**
 * The SIP edge's shared state and request dispatch: checks every request
 * (RFC 3261 8.2: headers, method, Max-Forwards), applies the per-address
 * budget, absorbs retransmissions, and hands each method to its handler.
 * Responses go to the client transactions. Outbound flows to partners are
 * found through DNS (RFC 3263 order as configured) and checked per RFC 5922.
 */
import { newId } from "../../model/id.js";
import type { TLSSocket } from "node:tls";
import type { SipMessage } from "sip";
import type { Logger } from "../../log.js";
import type { LoadedConfig } from "../../config/load.js";
import type { Router } from "../../router/router.js";
import type { RouteLane } from "../../router/lane.js";
import type { TrustStore } from "../../tls/trust.js";
import type { Federation } from "../../config/federation.js";
import { shippedStateMap, type StateMap } from "../../mapping/state-map.js";
import { discover, type Resolver } from "../dns/resolver.js";
import { DemarcError } from "../../errors.js";
import type { FramingError } from "./framing.js";
import type { Flow, TransportName } from "./flow.js";
import { AddressLimiter } from "./limits.js";
import { ALLOW_HEADER, KNOWN_METHODS, missingHeader, response } from "./message.js";
import { ClientTransactions, ServerTransactions } from "./transactions.js";
import type { SipTransports } from "./transport.js";
import { PartnerGate } from "./peers.js";
import { DialogStore } from "./dialogs.js";

export type Respond = (rs: SipMessage) => void;
export type RequestHandler = (rq: SipMessage, flow: Flow, respond: Respond) => Promise<void>;

export interface EdgeStats {
  requests: number;
  refused: number;
  malformed: number;
}

export class SipEdge {
  readonly server: ServerTransactions;
  readonly client: ClientTransactions;
  readonly gate: PartnerGate;
  readonly dialogs: DialogStore;
  readonly stats: EdgeStats = { requests: 0, refused: 0, malformed: 0 };
  private limiter: AddressLimiter;
  private readonly handlers = new Map<string, RequestHandler>();
  private readonly lanes = new WeakMap<Flow, RouteLane>();
  transports!: SipTransports;
  /** Listening ports per transport, for Contact headers. */
  readonly ports: Partial<Record<TransportName, number>> = {};
  /** The presence state map in force, for PIDF both ways (set by the module). */
  states: () => StateMap = shippedStateMap;

  constructor(
    public cfg: LoadedConfig,
    readonly log: Logger,
    readonly router: Router,
    private readonly trust: () => TrustStore | undefined,
    private readonly resolver: () => Resolver | undefined,
    federation: () => Federation,
  ) {
    const t = { t1: cfg.sip.timers.t1_ms, t2: cfg.sip.timers.t2_ms };
    this.server = new ServerTransactions(t);
    this.client = new ClientTransactions(t);
    this.gate = new PartnerGate(cfg, trust, federation);
    this.dialogs = new DialogStore(100_000);
    this.limiter = new AddressLimiter({ perSecond: cfg.sip.limits.requests_per_second, burst: cfg.sip.limits.burst });
  }

  update(cfg: LoadedConfig): void {
    this.cfg = cfg;
    this.gate.update(cfg);
    this.limiter = new AddressLimiter({ perSecond: cfg.sip.limits.requests_per_second, burst: cfg.sip.limits.burst });
  }

  on(method: string, handler: RequestHandler): void {
    this.handlers.set(method, handler);
  }

  /**
   * The flow's ordered lane through the router: MESSAGEs on one flow are
   * delivered in the order they arrived, sharing journal syncs, and a flow
   * whose messages pile up stops being read.
   */
  laneFor(flow: Flow): RouteLane {
    let lane = this.lanes.get(flow);
    if (!lane) {
      lane = this.router.lane({ pause: () => flow.pause?.(), resume: () => flow.resume?.() });
      this.lanes.set(flow, lane);
    }
    return lane;
  }

  newId(): string {
    return newId();
  }

  /** Our host for Contact and Warning: the hosted domain the request named, else the first. */
  hostFor(domain?: string): string {
    return domain && this.gate.isHosted(domain) ? domain : this.cfg.domains[0]!;
  }

  /** Where we listen for a transport: the listener's own address unless it is a wildcard. */
  listenerFor(flow: Flow): { host: string; port: number } {
    const l = { TLS: this.cfg.sip.tls, TCP: this.cfg.sip.tcp, UDP: this.cfg.sip.udp }[flow.transport];
    const wildcard = l.host === "0.0.0.0" || l.host === "::";
    return { host: wildcard ? flow.local.address : l.host, port: this.ports[flow.transport] ?? flow.local.port };
  }

  /** RFC 3261 8.1.1.8 / RFC 6665 4.1.2: the Contact names where our listener takes in-dialog requests. */
  contactFor(user: string, flow: Flow): string {
    const l = this.listenerFor(flow);
    const transport = flow.transport === "UDP" ? "" : `;transport=${flow.transport.toLowerCase()}`;
    const host = l.host.includes(":") ? `[${l.host}]` : l.host;
    return `sip:${user}@${host}:${l.port}${transport}`;
  }

  /** Via sent-by (RFC 3261 18.1.1): our listener, so a peer that opens a new connection for responses finds us. */
  viaFor(flow: Flow): { protocol: string; host: string; port: number } {
    const l = this.listenerFor(flow);
    return { protocol: flow.transport, host: l.host, port: l.port };
  }

  onFramingError(error: FramingError, flow: Flow): void {
    this.stats.malformed++;
    this.log.debug({ flow: flow.id, remote: flow.remoteAddress, status: error.status }, "unframeable SIP input");
    const m = error.message;
    // A response needs a Via to travel by (RFC 3261 18.2.2); without one the flow just closes.
    if (m?.method && m.method !== "ACK" && Array.isArray(m.headers.via) && m.headers.via.length) {
      flow.send(response(m, error.status, error.reason));
    }
  }

  onMessage(m: SipMessage, flow: Flow): void {
    if (m.status !== undefined) {
      if (!this.client.onResponse(m)) this.log.debug({ flow: flow.id, status: m.status }, "stray SIP response dropped");
      return;
    }
    this.stats.requests++;
    // Every request counts against its address's budget, well-formed or not.
    const admission = this.limiter.admit(flow.remoteAddress);
    const missing = missingHeader(m);
    if (admission !== "ok") {
      this.stats.refused++;
      if (admission === "cut") flow.close();
      else if (!missing && m.method !== "ACK") flow.send(response(m, 503, "Service Unavailable", { headers: { "retry-after": 5 } }));
      return;
    }
    if (missing) {
      this.stats.malformed++;
      if (missing !== "Via" && m.headers.via?.length && m.method !== "ACK") flow.send(response(m, 400, `Missing or Malformed ${missing}`));
      else if (flow.transport !== "UDP") flow.close();
      return;
    }
    const respond = this.server.begin(m, flow);
    if (!respond) return;
    const method = m.method!.toUpperCase();
    // RFC 3261 16.3 / 8.2: a request with Max-Forwards 0 that we would forward is refused.
    const mf = m.headers["max-forwards"];
    if (mf !== undefined && Number(mf) <= 0 && method !== "OPTIONS") {
      respond(response(m, 483, "Too Many Hops"));
      return;
    }
    const handler = this.handlers.get(method);
    if (!handler) {
      // RFC 3261 8.2.1: 405 with Allow for methods we know; 501 for the rest.
      if (KNOWN_METHODS.has(method)) respond(response(m, 405, "Method Not Allowed", { headers: { allow: ALLOW_HEADER } }));
      else respond(response(m, 501, "Not Implemented", { headers: { allow: ALLOW_HEADER } }));
      return;
    }
    handler(m, flow, respond).catch((err: unknown) => {
      this.log.error({ method, flow: flow.id, err: (err as Error).message }, "SIP request handler failed");
      respond(response(m, 500, "Server Internal Error"));
    });
  }

  /** A flow to a partner domain: pooled, or found through DNS and opened. */
  async partnerFlow(domain: string): Promise<Flow> {
    for (const t of ["TLS", "TCP", "UDP"] as const) {
      const f = this.transports.pooled(domain, t);
      if (f) return f;
    }
    const resolver = this.resolver();
    if (!resolver) throw new DemarcError("E_NO_RESOLVER", {});
    const candidates = await discover(resolver, domain, this.cfg.sip.discovery, 5061);
    const plain = this.cfg.sip.trust_plain_transports;
    const problems: string[] = [];
    for (const c of candidates) {
      const transport = transportOf(c.service);
      if (transport !== "TLS" && !plain) continue;
      try {
        return await this.transports.connect(domain, transport, c.address, c.port, (s) => this.verifyServer(domain, s), this.sourceAddress(transport, c.address));
      } catch (err) {
        problems.push(`${c.address}:${c.port}/${transport}: ${(err as Error).message}`);
      }
    }
    throw new DemarcError("E_SIP_CONNECT", { domain, problems });
  }

  /** Outbound connections leave from the listener's address when it is a specific one of the same family. */
  private sourceAddress(transport: TransportName, remote: string): string | undefined {
    const host = { TLS: this.cfg.sip.tls, TCP: this.cfg.sip.tcp, UDP: this.cfg.sip.udp }[transport].host;
    if (host === "0.0.0.0" || host === "::") return undefined;
    return host.includes(":") === remote.includes(":") ? host : undefined;
  }

  private verifyServer(domain: string, s: TLSSocket): string | undefined {
    const trust = this.trust();
    if (!trust) return "no trust store";
    const v = trust.assess({
      domain,
      service: "sip",
      cert: s.getPeerX509Certificate(),
      chainAuthorized: s.authorized,
      chainError: s.authorizationError ? String(s.authorizationError) : undefined,
    });
    return v.ok ? undefined : `certificate not accepted for ${domain}: ${v.reason ?? "identity mismatch"}`;
  }
}

/** RFC 3263 4.1 / Lync federation: which transport an SRV service names; fallback is TLS on 5061. */
export function transportOf(service: string): TransportName {
  if (service.startsWith("_sip._tcp")) return "TCP";
  if (service.startsWith("_sip._udp")) return "UDP";
  return "TLS";
}
