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
  private readonly queue: Unacked[] = [];

  constructor(
    readonly resumable: boolean,
    /** Section 4: a server MAY bound the queue; beyond this the session ends with resource-constraint. */
    readonly maxQueue = 10_000,
  ) {}

  handled(): void {
    this.inbound = (this.inbound + 1) % MOD;
  }

  track(u: Unacked): boolean {
    this.queue.push(u);
    return this.queue.length <= this.maxQueue;
  }

  /** Processes an <a h=''/> or the h of a <resume/>; false when h acknowledges more than was sent (section 4). */
  ack(h: number): boolean {
    const n = (h - this.acked + MOD) % MOD;
    if (n > this.queue.length) return false;
    this.queue.splice(0, n);
    this.acked = h;
    return true;
  }

  get pending(): number {
    return this.queue.length;
  }

  /** Takes everything unacknowledged (resend on resume, or re-deliver on timeout). */
  drain(): Unacked[] {
    return this.queue.splice(0, this.queue.length);
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
