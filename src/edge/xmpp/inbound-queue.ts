/**
 * The stanzas of one inbound s2s stream on their way to the router. RFC 6120
 * section 10.1: stanzas from one stream are processed in order. They go
 * through the router's ordered lane (decide, journal, deliver as a pipeline,
 * so a stream's messages share journal syncs), after the partner's rate
 * token. The stream stops being read while its partner is over its rate or
 * while too much of it waits in the lane (back-pressure, never loss).
 */
import type { RouteLane } from "../../router/lane.js";
import type { Router } from "../../router/router.js";
import type { Element } from "../../xmpp/xml.js";

export interface Pausable {
  pause(): void;
  resume(): void;
}

/** Handles one stanza in its turn (routes it and deals with the result); it never rejects. */
export type StanzaHandler = (el: Element, fromDomain: string, toDomain: string, seq: number | undefined) => Promise<void>;

export class InboundQueue {
  readonly lane: RouteLane;
  /** Reasons the stream is not read (lane full, rate wait); it reads again when none is left. */
  private holds = 0;
  /** The last stanza waiting for its rate token, when there is one. */
  private gate: Promise<void> | undefined;
  private tail: Promise<unknown> = Promise.resolve();

  /** `handle` is given once per stream, so a stanza queues without a closure of its own. */
  constructor(
    router: Router,
    private readonly stream: () => Pausable,
    private readonly handle: StanzaHandler,
  ) {
    this.lane = router.lane({ pause: () => this.hold(1), resume: () => this.hold(-1) });
  }

  /**
   * Queues a stanza's handling. `waitMs` is how long its rate token is away
   * (counted from now); the stanza goes to the handler once it is there and
   * every stanza queued before it has gone.
   */
  push(waitMs: number, el: Element, fromDomain: string, toDomain: string, seq: number | undefined): void {
    if (waitMs <= 0 && !this.gate) {
      this.tail = this.handle(el, fromDomain, toDomain, seq);
      return;
    }
    const due = Date.now() + Math.max(0, waitMs);
    this.hold(1);
    const prev = this.gate ?? Promise.resolve();
    const gate = prev.then(() => sleepUntil(due));
    this.gate = gate;
    this.tail = gate.then(() => {
      if (this.gate === gate) this.gate = undefined;
      this.hold(-1);
      return this.handle(el, fromDomain, toDomain, seq);
    });
  }

  /** Resolves when everything queued so far has been handled. */
  async idle(): Promise<void> {
    await this.tail;
    await this.lane.idle();
  }

  private hold(delta: 1 | -1): void {
    const before = this.holds;
    this.holds += delta;
    if (before === 0 && this.holds > 0) this.stream().pause();
    else if (before > 0 && this.holds === 0) this.stream().resume();
  }
}

function sleepUntil(due: number): Promise<void> {
  const ms = due - Date.now();
  return ms > 0 ? new Promise((r) => setTimeout(r, ms)) : Promise.resolve();
}
