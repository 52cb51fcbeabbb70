/**
 * XEP-0198 stream management on inbound s2s streams, acknowledging a stanza
 * only once demarc has finished with it: decided, journaled (synced) and
 * delivered or refused, and, where delivery went to an internal server over
 * a component link, confirmed by that server (see DeliveryConfirm). What the
 * partner's server has not had acknowledged when the stream dies (an edge
 * killed mid-burst) it bounces to the sender itself or sends again (Prosody:
 * smacks_s2s_resend), so nothing it handed over is silently lost.
 *
 * Only the receiving half is implemented: the partner enables, requests with
 * <r/>, and we answer <a h=''/>. There is no resumption on s2s (XEP-0198
 * section 5 leaves it to c2s; Prosody does not offer it either).
 */
import { xml, type Element } from "../../xmpp/index.js";

export const NS_SM = "urn:xmpp:sm:3";
const MOD = 2 ** 32; // section 4: h wraps at 2^32

/**
 * Confirmation that what was delivered so far has reached its recipient's
 * server. `epoch()` counts losses (a link that went down with deliveries not
 * yet confirmed); `confirm(since)` resolves once every delivery made before
 * the call is confirmed, and rejects when a loss happened after `since`.
 */
export interface DeliveryConfirm {
  epoch(): number;
  confirm(since: number): Promise<void>;
}

export interface InboundSmOptions {
  write(el: Element): void;
  /** Ends the stream: deliveries it acknowledged could not be confirmed, so the partner must take back the rest. */
  fail(reason: string): void;
  confirm?: DeliveryConfirm | undefined;
  /** Told once the peer has enabled it. */
  onEnabled?: (() => void) | undefined;
}

export class InboundStreamManagement {
  enabled = false;
  /** Stanzas counted since <enable/>. */
  private received = 0;
  /** Stanzas handled, counted contiguously from the first (the h we may acknowledge). */
  private handledUpTo = 0;
  /** Handled out of order, beyond handledUpTo. */
  private readonly early = new Set<number>();
  /** Loss epoch when each unacknowledged stanza arrived, oldest first. */
  private readonly epochs: number[] = [];
  private acked = 0;
  /** A round (confirm, then <a/>) is under way. */
  private confirming = false;

  constructor(private readonly opts: InboundSmOptions) {}

  /** The feature offered once the peer's domain is authenticated (section 3). */
  static feature(): Element {
    return xml("sm", { xmlns: NS_SM }, xml("optional"));
  }

  /** An element in the SM namespace from the peer. */
  element(el: Element): void {
    if (el.name === "enable") {
      if (this.enabled) return this.opts.write(failed("unexpected-request"));
      this.enabled = true;
      this.opts.onEnabled?.();
      // No resumption on s2s: the id and resume attributes are left out.
      return this.opts.write(xml("enabled", { xmlns: NS_SM }));
    }
    // A round under way answers when it ends; with nothing to confirm, the answer is what is already acknowledged.
    if (el.name === "r" && this.enabled && !this.pump()) this.sendAck(this.acked);
    // <a/> would answer an <r/> of ours; we never send one.
  }

  /** Counts a stanza the stream passed on; the number to hand to handled() when it is finished. */
  take(): number | undefined {
    if (!this.enabled) return undefined;
    this.epochs.push(this.opts.confirm?.epoch() ?? 0);
    return ++this.received;
  }

  /** A counted stanza is finished (delivered or refused with an error sent back). */
  handled(seq: number | undefined): void {
    if (seq === undefined) return;
    if (seq !== this.handledUpTo + 1) {
      this.early.add(seq);
      return;
    }
    this.handledUpTo = seq;
    while (this.early.delete(this.handledUpTo + 1)) this.handledUpTo++;
    this.pump();
  }

  /**
   * Acknowledges what is handled as soon as it is confirmed, without waiting
   * for an <r/> (section 4 allows an <a/> at any time): the partner's queue of
   * unacknowledged stanzas stays short, and so does what it would bounce.
   * One round at a time, each covering everything handled when it began.
   * False when there was nothing to start.
   */
  private pump(): boolean {
    if (this.confirming) return true;
    if (this.handledUpTo === this.acked) return false;
    const h = this.handledUpTo;
    const confirm = this.opts.confirm;
    // Deliveries of the stanzas (acked, h] may have gone out on a link that was lost since the first of them arrived.
    // Without deliveries to confirm, one <a/> per turn of the event loop still covers a whole burst.
    const confirmed = confirm ? confirm.confirm(this.epochs[0] ?? confirm.epoch()) : new Promise<void>((r) => setImmediate(r));
    this.confirming = true;
    confirmed.then(
      () => {
        this.confirming = false;
        if (this.enabled) this.sendAck(h);
        this.pump();
      },
      (err: Error) => {
        this.confirming = false;
        this.opts.fail(err.message);
      },
    );
    return true;
  }

  private sendAck(h: number): void {
    this.epochs.splice(0, h - this.acked);
    this.acked = h;
    this.opts.write(xml("a", { xmlns: NS_SM, h: String(h % MOD) }));
  }
}

const failed = (condition: string) => xml("failed", { xmlns: NS_SM }, xml(condition, { xmlns: "urn:ietf:params:xml:ns:xmpp-stanzas" }));
