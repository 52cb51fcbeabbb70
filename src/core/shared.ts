/**
 * What the core's parts share: the working set, the store, the limits and
 * policy, and the two ways out - a device's sink and the router.
 */
import { newId } from "../model/id.js";
import type { Envelope } from "../model/envelope.js";
import { domainOf } from "../model/envelope.js";
import type { Log } from "../model/log.js";
import type { CoreStore } from "./store.js";
import type { PresencePolicy } from "./policy.js";
import type { UserDirectory, Device } from "./user.js";
import type { CoreEvent, Limits, RouteFn } from "./types.js";
import { DeliveryFailure, type RouteResult } from "../model/route.js";

export interface CoreStats {
  /** Events pushed to devices. */
  pushed: number;
  /** Envelopes handed to the router. */
  routed: number;
  offlineStored: number;
}

export class Shared {
  readonly stats: CoreStats = { pushed: 0, routed: 0, offlineStored: 0 };
  private clock = 0;
  /** Set by the core: local delivery when there is no router (standalone use, benchmarks). */
  deliverLocal: ((e: Envelope) => Promise<void>) | undefined;

  constructor(
    readonly domains: () => ReadonlySet<string>,
    readonly store: CoreStore,
    readonly users: UserDirectory,
    readonly limits: Limits,
    public policy: PresencePolicy,
    public route: RouteFn | undefined,
    readonly log: Pick<Log, "warn" | "debug" | "error"> | undefined,
  ) {}

  isHosted(jid: string): boolean {
    return this.domains().has(domainOf(jid));
  }

  tick(): number {
    return ++this.clock;
  }

  push(device: Device, event: CoreEvent): void {
    this.stats.pushed++;
    try {
      device.sink.push(event);
    } catch (err) {
      this.log?.warn({ to: device.full, err: (err as Error).message }, "device sink refused an event");
    }
  }

  envelope(fields: Omit<Envelope, "id" | "receivedAt">): Envelope {
    return { id: newId(), receivedAt: Date.now(), ...fields };
  }

  /**
   * Hands an envelope to the router (compliance, archive, then delivery). With
   * no router, hosted recipients are served directly and remote ones are unreachable.
   */
  async send(e: Envelope, ordered?: RouteFn): Promise<RouteResult> {
    this.stats.routed++;
    if (this.route) return (ordered ?? this.route)(e);
    if (e.direction === "outbound") return { delivered: false, error: { condition: "remote-server-not-found", type: "cancel" } };
    try {
      await this.deliverLocal!(e);
      return { delivered: true, envelope: e };
    } catch (err) {
      if (err instanceof DeliveryFailure) return { delivered: false, error: err.error };
      throw err;
    }
  }

  /** Fire-and-forget routing for presence: failures are logged, never thrown. */
  sendQuiet(e: Envelope): void {
    this.send(e).then(
      (r) => {
        if (!r.delivered) this.log?.debug({ id: e.id, to: e.to, condition: r.error.condition }, "presence not delivered");
      },
      (err: Error) => this.log?.warn({ id: e.id, to: e.to, err: err.message }, "presence routing failed"),
    );
  }

  /** Direction for traffic a hosted user sends to `to`. */
  directionTo(to: string): { direction: "internal" | "outbound"; partnerDomain?: string } {
    return this.isHosted(to) ? { direction: "internal" } : { direction: "outbound", partnerDomain: domainOf(to) };
  }
}
