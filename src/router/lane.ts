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
import { isThenable } from "../model/thenable.js";

/** What a lane needs from the router: the three steps, split. */
export interface LaneSteps {
  /** Compliance's decision: at once when no stage had to wait for anything, else a promise of it. */
  decide(envelope: Envelope): Decision | Promise<Decision>;
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

/**
 * Envelopes in flight per stream before it is paused. Every one waiting is
 * live young-generation memory that each scavenge copies: at 4,096 a partner
 * bursting at line rate kept 60-70 ms of messages in flight, and scavenges
 * cost half as much again as at 2,048 (bench:relay, 181,000 messages: 1.0 s
 * against 0.65 s), with no throughput to show for it. The kernel's socket
 * buffers hold the rest of a burst for nothing. Lower still (1,024, 512)
 * shortened the wait again but began to slow the fastest partner.
 */
const DEFAULT_HIGH = 2048;
const DEFAULT_LOW = 1024;

/** One envelope on its way through the lane. */
class Job {
  decision: Decision | undefined;
  /** Decided (or failed to be), so it may go to the journal. */
  decided = false;
  /** Its record is synced (or refused, or it failed earlier), so it may be delivered. */
  synced = false;
  refused: RouteResult | undefined;
  failed = false;
  error: unknown;
  resolve!: (r: RouteResult) => void;
  reject!: (err: unknown) => void;
  readonly result: Promise<RouteResult>;

  constructor(
    readonly envelope: Envelope,
    readonly started: number,
  ) {
    this.result = new Promise<RouteResult>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
  }

  fail(err: unknown): void {
    this.failed = true;
    this.error = err;
  }
}

/**
 * The jobs of one lane in arrival order, with two cursors: the next to hand
 * to the journal and the next to deliver. A queue of plain records rather
 * than a chain of promises per envelope: at line rate the chain's closures
 * and promises were a good share of what the garbage collector had to sweep.
 */
export class RouteLane {
  /** Envelopes routed through this lane and not yet finished. */
  depth = 0;
  private jobs: (Job | undefined)[] = [];
  /** jobs[head] is the next to deliver; jobs[head .. journaled) have gone to the journal. */
  private head = 0;
  private journaled = 0;
  private delivering = false;
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
    const job = new Job(envelope, performance.now());
    this.enter();
    this.jobs.push(job);
    let decided: Decision | Promise<Decision>;
    try {
      decided = this.steps.decide(envelope);
    } catch (err) {
      decided = Promise.reject(err);
    }
    if (isThenable(decided)) {
      Promise.resolve(decided).then(
        (d) => this.decided(job, d),
        (err: unknown) => {
          job.fail(err);
          this.decided(job, undefined);
        },
      );
    } else this.decided(job, decided);
    return job.result;
  }

  /** Waits until everything routed so far has finished. */
  async idle(): Promise<void> {
    const last = this.jobs.length > this.head ? this.jobs[this.jobs.length - 1] : undefined;
    if (last) await last.result.catch(() => undefined);
  }

  private decided(job: Job, decision: Decision | undefined): void {
    job.decision = decision;
    job.decided = true;
    // Records go to the journal in sequence order, but nobody waits for the sync here.
    while (this.journaled < this.jobs.length && this.jobs[this.journaled]!.decided) this.journal(this.jobs[this.journaled++]!);
  }

  private journal(job: Job): void {
    if (job.failed) {
      job.synced = true;
      return this.deliverNext();
    }
    this.steps.journal(job.envelope, job.decision!).then(
      (refused) => {
        job.refused = refused;
        job.synced = true;
        this.deliverNext();
      },
      (err: unknown) => {
        job.fail(err);
        job.synced = true;
        this.deliverNext();
      },
    );
  }

  /** Deliveries in sequence order, one at a time, each once its own record is synced. */
  private deliverNext(): void {
    while (!this.delivering && this.head < this.jobs.length && this.jobs[this.head]!.synced) {
      const job = this.jobs[this.head]!;
      this.jobs[this.head++] = undefined;
      this.compact();
      if (job.failed) this.finish(job, undefined, job.error);
      else if (job.refused) this.finish(job, job.refused);
      else {
        this.delivering = true;
        this.steps.deliver(job.envelope, job.decision!).then(
          (r) => this.delivered(job, r, undefined),
          (err: unknown) => this.delivered(job, undefined, err),
        );
      }
    }
  }

  /** Drops delivered jobs from the front once they are most of the array (amortized: no shift per envelope). */
  private compact(): void {
    if (this.head === this.jobs.length) {
      this.jobs.length = this.head = this.journaled = 0;
    } else if (this.head >= 1024 && this.head * 2 >= this.jobs.length) {
      this.jobs = this.jobs.slice(this.head);
      this.journaled -= this.head;
      this.head = 0;
    }
  }

  private delivered(job: Job, r: RouteResult | undefined, err: unknown): void {
    this.delivering = false;
    this.finish(job, r, err);
    this.deliverNext();
  }

  private finish(job: Job, r: RouteResult | undefined, err?: unknown): void {
    if (r) job.resolve(r);
    else job.reject(err);
    this.leave(job.started);
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
