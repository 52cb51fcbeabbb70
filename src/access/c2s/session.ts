/**
 * A bound client session (RFC 6120 section 7 onwards): turns the client's
 * stanzas into core calls and the core's events into stanzas. It can outlive
 * its connection while XEP-0198 resumption is possible.
 */
import type { Logger } from "../../log.js";
import { StanzaError, StreamError, mayReplyWithError } from "../../xmpp/errors.js";
import { serialize, xml, type Element } from "../../xmpp/xml.js";
import type { CoreSession } from "../../core/session.js";
import { CoreError } from "../../core/errors.js";
import type { CoreEvent } from "../../core/types.js";
import { bareOf } from "../../model/envelope.js";
import { NS } from "./ns.js";
import type { StateMap } from "../../mapping/state-map.js";
import { renderBlockPush, renderCarbon, renderMessage, renderPresence, renderRosterPush, withDelay } from "./render.js";
import { StreamManagement, type Unacked } from "./sm.js";
import { handleMessage } from "./message.js";
import { handlePresence } from "./presence.js";
import { handleIq } from "./iq.js";

const ACK_EVERY = 20;
const ACK_DELAY_MS = 500;
const ACK_REQUEST = serialize(xml("r", { xmlns: NS.sm }));

/** What a session needs from the connection it is attached to. */
export interface Wire {
  send(el: Element | string): void;
  close(err?: StreamError): void;
  /** Stop and start reading from the client (back-pressure while its messages wait in the router). */
  pauseReading?(): void;
  resumeReading?(): void;
}

export class C2sSession {
  core!: CoreSession;
  wire: Wire | undefined;
  sm: StreamManagement | undefined;
  ended = false;
  /** Resolves once every message this session sent so far has been delivered or refused (its lane is idle). */
  messagesSettled: (() => Promise<void>) | undefined;
  private pushSeq = 0;
  /** The presence state map in force (the gateway's), for rendering rich states. */
  states: (() => StateMap) | undefined;

  constructor(
    readonly full: string,
    readonly domain: string,
    readonly log: Logger,
    private readonly onEnd: (s: C2sSession) => void,
  ) {
    this.bare = bareOf(full);
  }

  /** The user's bare JID, read for every stanza the session sends or receives. */
  readonly bare: string;

  /** DeviceSink: events from the core. */
  push = (ev: CoreEvent): void => {
    if (this.ended) return;
    switch (ev.kind) {
      case "message": {
        if (ev.carbon) return this.out(renderCarbon(ev.envelope, ev.carbon, this.bare, this.full));
        const msg = renderMessage(ev.envelope, this.full);
        return this.out(ev.delayed ? withDelay(msg, ev.envelope, this.domain) : msg, ev.envelope);
      }
      case "presence": {
        if (ev.type === "error") {
          const err = StanzaError.from(ev.error ?? { condition: "undefined-condition" });
          return this.out(xml("presence", { xmlns: NS.client, from: ev.from, to: this.full, type: "error" }, err.errorElement()));
        }
        return this.out(renderPresence(ev.from, this.full, ev.type, ev.presence, this.states?.()));
      }
      case "subscription":
        return this.out(renderPresence(ev.from, this.bare, ev.type, undefined));
      case "roster-push":
        return this.out(renderRosterPush(this.full, `push${++this.pushSeq}`, ev.item, ev.removed));
      case "block-push":
        return this.out(renderBlockPush(this.full, `block${++this.pushSeq}`, ev.jids, ev.blocked));
      case "closed":
        this.wire?.close(new StreamError(ev.reason === "conflict" ? "conflict" : "not-authorized", ev.reason === "conflict" ? "replaced by a new session" : "account removed"));
        this.end(false);
        return;
    }
  };

  /** Sends a stanza, keeping it for XEP-0198 until acknowledged. */
  out(el: Element | string, envelope?: Unacked["envelope"]): void {
    const text = typeof el === "string" ? el : serialize(el);
    if (this.sm) {
      this.sm.track({ el: text, envelope });
      // A client behind on acknowledgements has the grace its connection gives it (unsent.ts); far
      // behind, or parked without a connection past the bound, the session ends and what it had not
      // acknowledged goes to the user's other devices or offline.
      const { pending, maxQueue } = this.sm;
      if (pending > 4 * maxQueue || (!this.wire && pending > maxQueue)) {
        this.wire?.close(new StreamError("resource-constraint", "too many unacknowledged stanzas"));
        this.end(false);
        return;
      }
    }
    this.wire?.send(text);
    if (this.sm) this.requestAck();
  }

  /** XEP-0198 section 5: a resumed stream is sent again what the client had not acknowledged. */
  resendUnacked(): void {
    for (const u of this.sm!.drain()) this.out(u.el, u.envelope);
  }

  private ackTimer: NodeJS.Timeout | undefined;
  private readonly askAck = (): void => {
    clearTimeout(this.ackTimer);
    this.ackTimer = undefined;
    if (this.sm && this.sm.pending > 0) this.wire?.send(ACK_REQUEST);
  };
  /**
   * XEP-0198 section 4: ask the client to acknowledge, at most every ACK_EVERY
   * stanzas or ACK_DELAY_MS after the first unacknowledged one, so the queue
   * of what may need re-delivery stays short.
   */
  private requestAck(): void {
    if (this.sm!.pending % ACK_EVERY === 0) return this.askAck();
    if (this.ackTimer) return;
    this.ackTimer = setTimeout(this.askAck, ACK_DELAY_MS);
    this.ackTimer.unref?.();
  }

  /** A stanza from the client, after the connection checked its namespace and name. */
  async handle(el: Element): Promise<void> {
    this.sm?.handled();
    // RFC 6120 8.1.2.1: a from the client sets must be its own JID; the server stamps it.
    const from = el.attrs.from;
    if (from !== undefined && from !== this.full && from !== this.bare) {
      this.wire?.close(new StreamError("invalid-from"));
      return;
    }
    el.attrs.from = this.full;
    try {
      if (el.name === "message") await handleMessage(this, el);
      else if (el.name === "presence") {
        // RFC 6120 10.1: presence takes effect after the messages sent before it, which may still wait for the journal.
        await this.messagesSettled?.();
        await handlePresence(this, el);
      }
      else await handleIq(this, el);
    } catch (err) {
      this.replyError(el, err);
    }
  }

  replyError(el: Element, err: unknown): void {
    if (!mayReplyWithError(el)) return;
    let e: StanzaError;
    if (err instanceof StanzaError) e = err;
    else if (err instanceof CoreError) e = StanzaError.from(err.toDeliveryError());
    else {
      this.log.error({ err: (err as Error).message, stanza: el.name }, "stanza handling failed");
      e = new StanzaError("internal-server-error");
    }
    const reply = e.toElement(el);
    reply.attrs.from = el.attrs.to ?? this.domain;
    reply.attrs.to = this.full;
    this.out(reply);
  }

  /** IQ result to the client. */
  result(iq: Element, payload?: Element): void {
    this.out(xml("iq", { xmlns: NS.client, type: "result", id: iq.attrs.id, from: iq.attrs.to, to: this.full }, payload));
  }

  /** The connection went away; with resumption the session waits, otherwise it ends. */
  detach(clean: boolean): boolean {
    this.wire = undefined;
    if (!clean && this.sm?.resumable && !this.ended) return true;
    this.end(clean);
    return false;
  }

  /**
   * Ends the session: the core hears the device is gone; messages the client
   * never acknowledged go to the user's other devices or offline (XEP-0198 section 4).
   */
  end(_clean: boolean): void {
    if (this.ended) return;
    this.ended = true;
    clearTimeout(this.ackTimer);
    this.core.close();
    const unacked = this.sm?.drain() ?? [];
    for (const u of unacked) {
      if (u.envelope) this.core.redeliver(u.envelope).catch((err: Error) => this.log.error({ err: err.message }, "re-delivery failed"));
    }
    this.onEnd(this);
  }
}
