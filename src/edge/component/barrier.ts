/**
 * Delivery confirmation on one component stream. Writing a stanza to the
 * socket is not delivery: an edge killed a moment later takes the unsent
 * bytes with it. A ping to the internal server's domain written after them
 * comes back only once the server has routed everything before it (one
 * stream's stanzas are handled in order), so its answer confirms them all.
 * A stream lost with stanzas written since the last answered ping is told
 * to the owner ("unconfirmed"), whose confirmers then refuse to vouch for
 * them (see s2s-sm.ts, which acknowledges partners' stanzas only after that).
 */
import { escapeXML, type Element } from "../../xmpp/index.js";
import { NS_COMPONENT } from "../../xmpp/component.js";

export interface BarrierLink {
  readonly opts: { domain: string; serverDomain: string; connectTimeoutMs: number };
  writeOwn(data: string): boolean;
  drop(reason: string): void;
  emit(event: "unconfirmed", count: number): boolean;
}

interface Ping {
  resolve: () => void;
  timer: NodeJS.Timeout;
}

const ID_PREFIX = "demarc-confirm-";

export class LinkBarrier {
  /** Stanzas written since the last ping went out. */
  private unconfirmed = 0;
  /** Stanzas covered by pings not yet answered. */
  private covered = 0;
  private readonly pings = new Map<string, Ping>();
  private last: Promise<void> | undefined;
  private seq = 0;

  constructor(private readonly link: BarrierLink) {}

  wrote(): void {
    this.unconfirmed++;
  }

  confirm(): Promise<void> {
    if (this.unconfirmed === 0) return this.last ?? Promise.resolve();
    const id = `${ID_PREFIX}${++this.seq}`;
    const { domain, serverDomain, connectTimeoutMs } = this.link.opts;
    const iq = `<iq xmlns='${NS_COMPONENT}' type='get' id='${id}' from='${escapeXML(domain)}' to='${escapeXML(serverDomain)}'><ping xmlns='urn:xmpp:ping'/></iq>`;
    // Not online: lost() has already counted these stanzas as unconfirmed.
    if (!this.link.writeOwn(iq)) return Promise.resolve();
    this.covered += this.unconfirmed;
    this.unconfirmed = 0;
    this.last = new Promise<void>((resolve) => {
      // A server that does not answer within the connect timeout is treated as gone: what it took is not confirmed.
      const timer = setTimeout(() => this.link.drop(`confirmation ping ${id} unanswered for ${connectTimeoutMs} ms`), connectTimeoutMs);
      this.pings.set(id, { resolve, timer });
    });
    return this.last;
  }

  /** True when the element answers one of our pings (a result, or an error from a server without XEP-0199). */
  answered(el: Element): boolean {
    const id = el.attrs.id;
    if (el.name !== "iq" || !id?.startsWith(ID_PREFIX) || (el.attrs.type !== "result" && el.attrs.type !== "error")) return false;
    const ping = this.pings.get(id);
    if (!ping) return true;
    // Answers come in order: this one confirms every earlier ping too.
    for (const [k, p] of this.pings) {
      this.pings.delete(k);
      clearTimeout(p.timer);
      p.resolve();
      if (k === id) break;
    }
    if (this.pings.size === 0) this.covered = 0;
    return true;
  }

  /**
   * The stream is gone: whatever was written and not confirmed is reported
   * (unless the edge itself is stopping, after draining) before the waiters wake up.
   */
  lost(report = true): void {
    const n = this.unconfirmed + (this.pings.size ? this.covered : 0);
    this.unconfirmed = 0;
    this.covered = 0;
    this.last = undefined;
    if (n > 0 && report) this.link.emit("unconfirmed", n);
    for (const p of this.pings.values()) {
      clearTimeout(p.timer);
      p.resolve();
    }
    this.pings.clear();
  }
}
