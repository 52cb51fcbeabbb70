/**
 * One ordered lane through the router per inbound stream (an s2s stream, a
 * c2s session, a SIP flow). RFC 6120 section 10.1 asks that stanzas from one
 * stream be processed in order; a chain of awaits per stanza would keep the
 * order but make every stanza wait for its own journal fsync, so a stream
 * could never share a group commit. Here the three steps run as a pipeline
 * ordered by sequence instead:
 *
 *   decide   - compliance starts at once for each envelope, in arrival order;
 *   journal  - records are handed to the archive in sequence order without
 *              waiting for the previous sync, so many share one fsync;
 *   deliver  - in sequence order, each only once its own record is synced.
 *
 * Nothing is delivered before its record is durable, and deliveries and
 * results come out in the order the envelopes went in. While too many wait,
 * or while the archive is congested, the lane asks its stream to stop
 * reading (TCP back-pressure) rather than drop anything.
 */
import type { Envelope } from "../model/envelope.js";
import type { Decision, RouteResult } from "../model/route.js";

/** What a lane needs from the router: the three steps, split. */
export interface LaneSteps {
  decide(envelope: Envelope): Promise<Decision>;
  /** Hands the record to the archive; resolves to the failure result, if the archive refused it, once it is synced. */
  journal(envelope: Envelope, decision: Decision): Promise<RouteResult | undefined>;
  deliver(envelope: Envelope, decision: Decision): Promise<RouteResult>;
  /** True while the archive is behind and streams should stop reading. */
  congested(): boolean;
  /** Called when an envelope enters (+1) or leaves (-1) any lane, with its wait when it leaves. */
  track(delta: 1 | -1, waitedSeconds?: number): void;
  /** Asks to be called back (once) when the archive is no longer congested. */
  whenClear(fn: () => void): void;
}

export interface LaneOptions {
  /** Envelopes waiting in this lane at which the stream is paused. */
  high?: number | undefined;
  /** ... and at which it is resumed. */
  low?: number | undefined;
  /** Stop reading the stream (socket.pause()). */
  pause?: (() => void) | undefined;
  /** Read the stream again. */
  resume?: (() => void) | undefined;
}

const DEFAULT_HIGH = 4096;
const DEFAULT_LOW = 2048;

interface Journaled {
  decision: Decision;
  synced: Promise<RouteResult | undefined>;
}

export class RouteLane {
  /** Envelopes routed through this lane and not yet finished. */
  depth = 0;
  private journalTail: Promise<unknown> = Promise.resolve();
  private deliverTail: Promise<unknown> = Promise.resolve();
  private paused = false;
  private readonly high: number;
  private readonly low: number;

  constructor(
    private readonly steps: LaneSteps,
    private readonly opts: LaneOptions = {},
  ) {
    this.high = opts.high ?? DEFAULT_HIGH;
    this.low = Math.min(opts.low ?? DEFAULT_LOW, this.high - 1);
  }

  /** Routes one envelope; results settle in the order route() was called. */
  route(envelope: Envelope): Promise<RouteResult> {
    const started = performance.now();
    this.enter();
    const decided = this.steps.decide(envelope);
    // Records go to the journal in sequence order, but nobody waits for the sync here.
    const journaled: Promise<Journaled> = this.journalTail.then(() =>
      decided.then((decision) => ({ decision, synced: this.steps.journal(envelope, decision) })),
    );
    this.journalTail = journaled.catch(() => undefined);
    const result = this.deliverTail.then(async () => {
      const { decision, synced } = await journaled;
      const refused = await synced;
      return refused ?? (await this.steps.deliver(envelope, decision));
    });
    this.deliverTail = result.catch(() => undefined);
    return result.finally(() => this.leave(started));
  }

  /** Waits until everything routed so far has finished. */
  async idle(): Promise<void> {
    await this.deliverTail;
  }

  private enter(): void {
    this.depth++;
    this.steps.track(1);
    if (!this.paused && (this.depth >= this.high || this.steps.congested())) this.setPaused(true);
  }

  private leave(started: number): void {
    this.depth--;
    this.steps.track(-1, (performance.now() - started) / 1000);
    if (this.paused && this.depth <= this.low) this.maybeResume();
  }

  private maybeResume(): void {
    if (!this.paused) return;
    if (this.steps.congested()) {
      this.steps.whenClear(() => this.maybeResume());
      return;
    }
    if (this.depth > this.low) return;
    this.setPaused(false);
  }

  private setPaused(on: boolean): void {
    this.paused = on;
    if (on) {
      this.opts.pause?.();
      // A congested archive with nothing left in this lane still needs a way back.
      if (this.depth <= this.low) this.steps.whenClear(() => this.maybeResume());
    } else this.opts.resume?.();
  }
}
