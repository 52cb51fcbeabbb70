/**
 * XEP-0198 stream management: counts handled stanzas both ways, keeps what the
 * client has not acknowledged, and lets a dropped session be resumed with
 * the unacknowledged stanzas sent again (section 5).
 */
import { randomBytes } from "node:crypto";
import { xml, type Element } from "../../xmpp/xml.js";
import type { Envelope } from "../../model/envelope.js";
import { NS } from "./ns.js";

export interface Unacked {
  /** As written: the text, so a stanza waiting for its acknowledgement holds one string, not an element tree. */
  el: Element | string;
  /** For messages: what to re-deliver if the session is never resumed. */
  envelope?: Envelope | undefined;
}

const MOD = 2 ** 32; // section 4: h wraps at 2^32

export class StreamManagement {
  readonly id = randomBytes(12).toString("base64url");
  /** Stanzas from the client we have handled. */
  inbound = 0;
  /** Stanzas to the client it has acknowledged. */
  private acked = 0;
  /**
   * Unacknowledged stanzas from `head` on: an acknowledgement moves the head
   * rather than splicing the array, which for a client some thousands of
   * stanzas behind cost a copy of the whole queue every ACK_EVERY stanzas.
   */
  private queue: Unacked[] = [];
  private head = 0;

  constructor(
    readonly resumable: boolean,
    /** Section 4: a server MAY bound the queue; past this the client is behind (unsent.ts), past 4 times it the session ends. */
    readonly maxQueue = 10_000,
  ) {}

  handled(): void {
    this.inbound = (this.inbound + 1) % MOD;
  }

  track(u: Unacked): void {
    this.queue.push(u);
  }

  /** Processes an <a h=''/> or the h of a <resume/>; false when h acknowledges more than was sent (section 4). */
  ack(h: number): boolean {
    const n = (h - this.acked + MOD) % MOD;
    if (n > this.pending) return false;
    this.head += n;
    // Compact once the acknowledged part is the larger one: each entry is copied at most once more.
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    this.acked = h;
    return true;
  }

  get pending(): number {
    return this.queue.length - this.head;
  }

  /** Takes everything unacknowledged (resend on resume, or re-deliver on timeout). */
  drain(): Unacked[] {
    const out = this.queue.slice(this.head);
    this.queue = [];
    this.head = 0;
    return out;
  }

  enabled(max: number): Element {
    return xml("enabled", { xmlns: NS.sm, id: this.resumable ? this.id : undefined, resume: this.resumable ? "true" : undefined, max: this.resumable ? String(max) : undefined });
  }

  answer(): Element {
    return xml("a", { xmlns: NS.sm, h: String(this.inbound) });
  }
}

export function parseH(v: string | undefined): number | undefined {
  if (v === undefined || !/^\d{1,10}$/.test(v)) return undefined;
  const n = Number(v);
  return n < MOD ? n : undefined;
}

export const smFailed = (condition: string, h?: number) =>
  xml("failed", { xmlns: NS.sm, h: h === undefined ? undefined : String(h) }, xml(condition, { xmlns: NS.stanzas }));
