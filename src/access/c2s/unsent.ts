/**
 * What waits for a client that is not taking it: bytes it has not read, and
 * with XEP-0198 stanzas it has not acknowledged. A client that keeps up lets
 * both drain; one that stopped lets them grow, and without a bound the
 * gateway would hold every message sent to it in memory (a partner could
 * fill it through one account). Above c2s.max_unsent_kb or c2s.max_unacked
 * the client has behind_grace_s to get back under them (a burst, or a
 * resumption's resend, that it is still taking), and its stream is closed if
 * it is still above then; above 16 times the bytes the stream ends at once,
 * except during a resend, whose size the unacknowledged queue bounds (the
 * session itself ends past 4 times max_unacked).
 */
import type { Writable } from "node:stream";
import { heldLength } from "../../xmpp/write-batch.js";
import type { C2sEnv, StallReason } from "./env.js";

export class UnsentWatch {
  private timer: NodeJS.Timeout | undefined;
  private stalled = false;
  /** Set while a resumed session's unacknowledged stanzas are sent again, all in one round. */
  private resending = false;

  constructor(
    /** The connection's socket as it is now (the TLS one after STARTTLS). */
    private readonly socket: () => Writable,
    private readonly env: () => Pick<C2sEnv, "cfg" | "log" | "stalled">,
    /** Stanzas sent to the client it has not acknowledged (XEP-0198; 0 without it). */
    private readonly unacked: () => number,
    /** Who the stream is, for the log line. */
    private readonly who: () => { address: string; user: string | undefined },
    /** Called once, when the client is found not keeping up: the connection closes the stream the usual way, with this text. */
    private readonly close: (text: string) => void,
  ) {}

  /** Runs a resumption's resend, exempt from the hard limit (the grace still applies). */
  resend(fn: () => void): void {
    this.resending = true;
    try {
      fn();
    } finally {
      this.resending = false;
    }
  }

  /** Bytes in the socket's own buffer plus characters held for its next write. */
  unsent(): number {
    const s = this.socket();
    return s.writableLength + heldLength(s);
  }

  /** After each write. */
  check(): void {
    if (this.stalled) return;
    const { cfg } = this.env();
    const bound = cfg.max_unsent_kb * 1024;
    const unsent = this.unsent();
    if (!(unsent > bound) && !(this.unacked() > cfg.max_unacked)) return;
    if (unsent > 16 * bound && !this.resending) return this.stall("hard_limit");
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      const { cfg } = this.env();
      if (!this.stalled && (this.unsent() > cfg.max_unsent_kb * 1024 || this.unacked() > cfg.max_unacked)) this.stall("grace_expired");
    }, cfg.behind_grace_s * 1000).unref();
  }

  stop(): void {
    this.stalled = true;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private stall(reason: StallReason): void {
    const unsentBytes = this.unsent();
    const unacked = this.unacked();
    this.stop();
    const env = this.env();
    const reading = unsentBytes > env.cfg.max_unsent_kb * 1024;
    env.log.warn({ ...this.who(), unsentBytes, unacked, reason }, "c2s client is not keeping up with what it is sent; closing its stream");
    env.stalled?.(reason);
    this.close(reading ? "the client is not reading what it is sent" : "too many unacknowledged stanzas");
  }
}
