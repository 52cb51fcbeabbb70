/**
 * What waits for a client that is not reading it. A client that reads lets
 * its socket's backlog drain; one that stopped lets it grow, and without a
 * bound the gateway would hold every message sent to it in memory (a partner
 * could fill it through one account). Above c2s.max_unsent_kb the client has
 * unsent_grace_s to get back under it (a burst, or a resumption's resend,
 * that it is still reading), and is closed if it is still above then; above 16 times it the stream ends at once,
 * except during a resend, whose size the session's unacknowledged queue
 * already bounds.
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
    /** Who the stream is, for the log line. */
    private readonly who: () => { address: string; user: string | undefined },
    /** Called once, when the client is found not reading: the connection closes the stream the usual way. */
    private readonly close: () => void,
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
    if (!(unsent > bound)) return;
    if (unsent > 16 * bound && !this.resending) return this.stall("hard_limit");
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      if (!this.stalled && this.unsent() > bound) this.stall("grace_expired");
    }, cfg.unsent_grace_s * 1000).unref();
  }

  stop(): void {
    this.stalled = true;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private stall(reason: StallReason): void {
    const unsentBytes = this.unsent();
    this.stop();
    const env = this.env();
    env.log.warn({ ...this.who(), unsentBytes, reason }, "c2s client is not reading what it is sent; closing its stream");
    env.stalled?.(reason);
    this.close();
  }
}
