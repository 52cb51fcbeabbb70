/**
 * The router: every Envelope, inbound or outbound, goes compliance -> archive ->
 * delivery, in that order and blocking. Nothing reaches a recipient that was
 * not decided on and durably archived first.
 */
import type { Envelope } from "../model/envelope.js";
import type { Logger } from "../log.js";
import { RouteLane, type LaneOptions, type LaneSteps } from "./lane.js";
import { RouteFlow } from "./flow.js";
import {
  DeliveryFailure,
  type Archiver,
  type Compliance,
  type Decision,
  type DeliveryTarget,
  type RouteResult,
} from "../model/route.js";
import type { DeliveryOutcome, DeliveryReceipt, OutcomeRecorder } from "../model/outcome.js";

/** A delivery attempt: what the caller is told, and what the outcome recorder also needs. */
interface Attempt {
  result: RouteResult;
  receipt?: DeliveryReceipt | undefined;
  /** Our own routing refused it (rather than the far side). */
  routing?: boolean | undefined;
}

const nothing = (): undefined => undefined;
const NOTHING: Promise<undefined> = Promise.resolve(undefined);

export const allowAll: Compliance = {
  async evaluate(envelope) {
    return { deliver: true, envelope, policyVersion: "none", verdicts: [] };
  },
};

export interface RouterOptions {
  log: Logger;
  /** Which protocol a partner domain is reached over (from the partners config). */
  protocolOf: (partnerDomain: string) => "xmpp" | "sip";
}

export class Router {
  private compliance: Compliance = allowAll;
  private archiver: Archiver | undefined;
  private internal: DeliveryTarget | undefined;
  private readonly remotes = new Map<"xmpp" | "sip", DeliveryTarget>();
  private outcomes: OutcomeRecorder | undefined;
  /** Queue depth, waits and congestion across every lane. */
  readonly flow: RouteFlow;
  private readonly steps: LaneSteps;

  constructor(private readonly opts: RouterOptions) {
    this.flow = new RouteFlow(() => this.archiver?.congested?.() ?? false);
    this.steps = {
      decide: (e) => (this.compliance.decide ? this.compliance.decide(e) : this.compliance.evaluate(e)),
      journal: (e, d) => this.journal(e, d),
      deliver: (e, d) => this.deliver(e, d),
      congested: () => this.flow.congested(),
      track: (delta, waited) => this.flow.track(delta, waited),
      whenClear: (fn) => this.flow.whenClear(fn),
    };
  }

  /**
   * An ordered lane for one inbound stream: its envelopes are decided,
   * journaled and delivered as a pipeline that keeps their order (RFC 6120
   * section 10.1) while sharing journal syncs.
   */
  lane(opts?: LaneOptions): RouteLane {
    return new RouteLane(this.steps, opts);
  }

  useCompliance(c: Compliance): void {
    this.compliance = c;
  }
  useArchiver(a: Archiver): void {
    this.archiver = a;
  }
  /** Who records what became of each archived envelope. */
  useOutcomes(o: OutcomeRecorder): void {
    this.outcomes = o;
  }
  /** Where inbound traffic for hosted users goes: the embedded core or an internal server. */
  useInternal(t: DeliveryTarget): void {
    this.internal = t;
  }
  /** Where outbound traffic for partners goes, per protocol. */
  useRemote(protocol: "xmpp" | "sip", t: DeliveryTarget): void {
    this.remotes.set(protocol, t);
  }

  async route(envelope: Envelope): Promise<RouteResult> {
    return this.deliverDecided(envelope, await this.compliance.evaluate(envelope));
  }

  /**
   * Archive and delivery for an envelope decided outside compliance: a
   * compliance officer releasing a quarantined message has made the decision,
   * and running the policy again would only hold it again.
   */
  async deliverDecided(envelope: Envelope, decision: Decision): Promise<RouteResult> {
    return (await this.journal(envelope, decision)) ?? (await this.deliver(envelope, decision));
  }

  /** The archive record; resolves once it is durable, to the refusal when the archive could not take it. */
  private journal(envelope: Envelope, decision: Decision): Promise<RouteResult | undefined> {
    if (!this.archiver) return NOTHING;
    let recorded: Promise<void>;
    try {
      recorded = Promise.resolve(this.archiver.record(envelope, decision));
    } catch (err) {
      return Promise.resolve(this.refused(envelope, err));
    }
    return recorded.then(nothing, (err: unknown) => this.refused(envelope, err));
  }

  /** Fail closed: a message we could not archive must not cross. */
  private refused(envelope: Envelope, err: unknown): RouteResult {
    this.opts.log.error({ id: envelope.id, err: (err as Error).message }, "archive refused record; not delivering");
    return { delivered: false, error: { condition: "internal-server-error", type: "wait", text: "archive unavailable" } };
  }

  /** Copies and delivery, once the record is durable. */
  private deliver(envelope: Envelope, decision: Decision): Promise<RouteResult> {
    if (decision.copies?.length) void this.sendCopies(decision);
    if (!decision.deliver) {
      return Promise.resolve(this.noted(envelope, decision, { result: { delivered: false, error: decision.error ?? { condition: "policy-violation", type: "modify" } } }));
    }
    const target = this.targetFor(decision.envelope);
    if (!target) {
      return Promise.resolve(this.noted(envelope, decision, { routing: true, result: { delivered: false, error: { condition: "service-unavailable", type: "cancel", text: "no route" } } }));
    }
    let sent: Promise<void | DeliveryReceipt>;
    try {
      sent = Promise.resolve(target.deliver(decision.envelope));
    } catch (err) {
      return Promise.resolve(this.noted(envelope, decision, this.failed(envelope, err)));
    }
    // One continuation per delivery, not a stack of async functions: this runs for every envelope.
    return sent.then(
      (receipt) => this.noted(envelope, decision, { receipt: receipt ?? undefined, result: { delivered: true, envelope: decision.envelope } }),
      (err: unknown) => this.noted(envelope, decision, this.failed(envelope, err)),
    );
  }

  private failed(envelope: Envelope, err: unknown): Attempt {
    if (err instanceof DeliveryFailure) return { routing: err.routing, result: { delivered: false, error: err.error } };
    this.opts.log.error({ id: envelope.id, err: (err as Error).message }, "delivery failed");
    return { result: { delivered: false, error: { condition: "remote-server-not-found", type: "cancel" } } };
  }

  /** Tells the outcome recorder what became of an archived envelope, and answers the attempt's result. */
  private noted(envelope: Envelope, decision: Decision, { result: r, receipt, routing }: Attempt): RouteResult {
    const rec = this.outcomes;
    if (!rec) return r;
    const at = Date.now();
    const facts = { kind: envelope.kind, decision };
    const note = (outcome: DeliveryOutcome, condition?: string, detail?: string) => rec.record({ msgId: envelope.id, at, outcome, condition, detail }, facts);
    // A release that could not be delivered leaves the message held; only one that went out is released.
    if (r.delivered) {
      for (const v of decision.verdicts) {
        if (v.action === "release") {
          note("released", undefined, v.reason);
          break;
        }
      }
      note(receipt?.outcome ?? "delivered");
    } else if (!decision.deliver) note(decision.quarantined ? "held" : "blocked", r.error.condition, r.error.text);
    else note(routing ? "refused" : "bounced", r.error.condition, r.error.text);
    return r;
  }

  /** Compliance copies go to internal addresses only, best effort; the archive already holds the original. */
  private async sendCopies(decision: Decision): Promise<void> {
    const { envelope } = decision;
    for (const [i, copy] of (decision.copies ?? []).entries()) {
      const target = this.internal;
      const dup: Envelope = { ...envelope, id: `${envelope.id}.copy${i + 1}`, to: copy.to, direction: "internal", partnerDomain: undefined, tags: [...(envelope.tags ?? []), `copy-of:${envelope.id}`] };
      try {
        if (!target) throw new Error("no internal target");
        await target.deliver(dup);
      } catch (err) {
        this.opts.log.warn({ id: envelope.id, to: copy.to, rule: copy.ruleId, err: (err as Error).message }, "compliance copy not delivered");
      }
    }
  }

  private targetFor(envelope: Envelope): DeliveryTarget | undefined {
    if (envelope.direction === "outbound" && envelope.partnerDomain) {
      return this.remotes.get(this.opts.protocolOf(envelope.partnerDomain));
    }
    return this.internal;
  }
}
