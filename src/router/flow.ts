/**
 * What the router's lanes hold between them: how many envelopes wait, how
 * long each waited from arrival to result, and whether the archive is behind.
 * /metrics shows the first two; the third pauses streams until it clears.
 */
import { Gauge, Histogram, type Registry } from "prom-client";

/** How often a congested archive is looked at again while streams wait on it. */
const CLEAR_POLL_MS = 20;
/**
 * Envelopes waiting across all lanes at which every stream is paused: one
 * lane may hold a few thousand (a whole journal group), many lanes together
 * must not hold the process's memory hostage.
 */
const MAX_IN_FLIGHT = 50_000;

export class RouteFlow {
  /** Envelopes in any lane, not yet delivered or refused. */
  depth = 0;
  /** Streams currently paused because the archive is behind. */
  private readonly waiting: Array<() => void> = [];
  private poll: NodeJS.Timeout | undefined;
  private wait: { observe(seconds: number): void } | undefined;

  constructor(private readonly archiveBehind: () => boolean) {}

  register(registry: Registry): void {
    const flow = this;
    new Gauge({
      name: "demarc_route_queue_depth",
      help: "Envelopes accepted from streams and not yet delivered or refused (decide, journal, deliver)",
      registers: [registry],
      collect() {
        this.set(flow.depth);
      },
    });
    new Gauge({
      name: "demarc_route_paused_streams",
      help: "Streams not being read because the archive journal or database is behind",
      registers: [registry],
      collect() {
        this.set(flow.waiting.length);
      },
    });
    this.wait = new Histogram({
      name: "demarc_route_wait_seconds",
      help: "Time from a stanza's arrival at the router to its delivery or refusal",
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5],
      registers: [registry],
    }).labels();
  }

  track(delta: 1 | -1, waitedSeconds?: number): void {
    this.depth += delta;
    if (waitedSeconds !== undefined) this.wait?.observe(waitedSeconds);
  }

  congested(): boolean {
    return this.depth >= MAX_IN_FLIGHT || this.archiveBehind();
  }

  whenClear(fn: () => void): void {
    this.waiting.push(fn);
    this.poll ??= setInterval(() => this.check(), CLEAR_POLL_MS);
    this.poll.unref();
  }

  private check(): void {
    if (this.congested()) return;
    clearInterval(this.poll);
    this.poll = undefined;
    for (const fn of this.waiting.splice(0)) fn();
  }
}
