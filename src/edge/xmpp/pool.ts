/**
 * Outbound streams, one per (local domain, remote domain) pair: stanzas queue
 * while the stream is set up (on the partner's targets in turn, see
 * outbound-failover.ts), go out once it is authenticated, and when no target
 * works every queued stanza is rejected with a stanza error for its sender
 * (remote-server-not-found / remote-server-timeout), so nothing is dropped
 * silently. Idle streams close.
 */
import { certSummary, type PartnerHealth } from "./health.js";
import type { Logger } from "../../log.js";
import type { Resolver } from "../dns/resolver.js";
import { DeliveryFailure } from "../../model/route.js";
import { establish, UnreachableError } from "./outbound-failover.js";
import { NegotiationError, type OutboundStream, type OutboundEnv, type Purpose } from "./outbound.js";
import type { Element } from "../../xmpp/xml.js";

interface Queued {
  el: Element;
  resolve: () => void;
  reject: (e: DeliveryFailure) => void;
}

interface Entry {
  stream?: OutboundStream;
  /** A connection is being made; more stanzas only queue. */
  opening?: boolean;
  queue: Queued[];
  idle?: NodeJS.Timeout | undefined;
  /** When a stanza last went out (Date.now()). */
  used?: number;
}

export interface PoolEnv extends OutboundEnv {
  resolver: () => Resolver;
  idleTimeoutMs: number;
  queueMax: number;
  log: Logger;
  /** What the review console's partner page shows: streams set up and failures. */
  health?: PartnerHealth | undefined;
}

export class OutboundPool {
  private readonly entries = new Map<string, Entry>();
  private closing = false;
  /** Streams still being set up are invisible to close(); this reaches them. */
  private readonly shutdown = new AbortController();

  constructor(private readonly env: PoolEnv) {}

  /** Resolves when the stanza was written to an authenticated stream; rejects with a DeliveryFailure otherwise. */
  send(local: string, remote: string, el: Element): Promise<void> {
    if (this.closing) return Promise.reject(new DeliveryFailure({ condition: "service-unavailable", type: "wait", text: "shutting down" }));
    const key = `${local}|${remote}`;
    let entry = this.entries.get(key);
    if (!entry) {
      entry = { queue: [] };
      this.entries.set(key, entry);
    }
    const stream = entry.stream;
    if (stream?.ready) {
      this.touch(key, entry);
      return stream.send(el);
    }
    if (entry.queue.length >= this.env.queueMax) {
      return Promise.reject(new DeliveryFailure({ condition: "resource-constraint", type: "wait", text: `too many stanzas waiting for ${remote}` }));
    }
    const p = new Promise<void>((resolve, reject) => entry.queue.push({ el, resolve, reject }));
    if (!stream && !entry.opening) void this.open(key, entry, local, remote);
    return p;
  }

  private async open(key: string, entry: Entry, local: string, remote: string): Promise<void> {
    let stream: OutboundStream;
    entry.opening = true;
    try {
      stream = await this.connect(local, remote, { kind: "stanzas" });
    } catch (err) {
      entry.opening = false;
      this.bounce(key, entry, err as Error, remote);
      return;
    }
    entry.opening = false;
    // Past the drain time close() has bounced what was queued; before it, the queue still goes out.
    if (this.shutdown.signal.aborted) return stream.end();
    entry.stream = stream;
    stream.on("closed", () => {
      if (this.entries.get(key) === entry && entry.stream === stream) {
        clearTimeout(entry.idle);
        entry.idle = undefined;
        entry.stream = undefined;
        if (entry.queue.length === 0) this.entries.delete(key);
        else void this.open(key, entry, local, remote);
      }
    });
    this.env.log.info({ local, remote, via: stream.authenticatedVia, tls: stream.tlsVersion(), target: stream.target }, "s2s outbound stream ready");
    this.env.health?.stream(remote, "outbound", { auth: String(stream.authenticatedVia), tlsVersion: stream.tlsVersion() ?? null, cert: certSummary(stream.peerCertificate()) });
    const queued = entry.queue.splice(0);
    for (const q of queued) {
      void stream.send(q.el);
      q.resolve();
    }
    this.touch(key, entry);
  }

  private bounce(key: string, entry: Entry, err: Error, remote: string): void {
    this.env.health?.failure(remote, "outbound", err.message);
    const condition = err instanceof UnreachableError || err instanceof NegotiationError ? err.condition : "remote-server-not-found";
    const stanzaCondition = condition === "not-authorized" ? "remote-server-not-found" : condition;
    const queued = entry.queue.splice(0);
    if (queued.length > 0) this.env.log.warn({ remote, err: err.message, bounced: queued.length }, "s2s partner unreachable; bouncing queued stanzas");
    entry.stream?.destroy();
    entry.stream = undefined;
    if (this.entries.get(key) === entry) this.entries.delete(key);
    for (const q of queued) q.reject(new DeliveryFailure({ condition: stanzaCondition, type: stanzaCondition === "remote-server-timeout" ? "wait" : "cancel", text: err.message }));
  }

  /**
   * Notes a stanza sent. The idle timer is not replaced for each one (a timer
   * object per stanza): when it fires early it waits out the rest of the idle time.
   */
  private touch(key: string, entry: Entry): void {
    entry.used = Date.now();
    if (!entry.idle) this.armIdle(key, entry, this.env.idleTimeoutMs);
  }

  private armIdle(key: string, entry: Entry, ms: number): void {
    entry.idle = setTimeout(() => {
      entry.idle = undefined;
      const left = (entry.used ?? 0) + this.env.idleTimeoutMs - Date.now();
      if (left > 0) return this.armIdle(key, entry, left);
      if (entry.queue.length === 0) {
        this.entries.delete(key);
        entry.stream?.end();
      }
    }, ms);
    entry.idle.unref();
  }

  private connect(local: string, remote: string, purpose: Purpose): Promise<OutboundStream> {
    return establish({ env: this.env, resolver: this.env.resolver(), local, remote, purpose, signal: this.shutdown.signal });
  }

  /** Receiving role of dialback: ask the authoritative server of `remote` over a stream of its own. */
  async verify(req: { local: string; remote: string; streamId: string; key: string }): Promise<boolean> {
    // Resolves once the verdict is in; a target that failed before giving one was passed over.
    const stream = await this.connect(req.local, req.remote, { kind: "verify", streamId: req.streamId, key: req.key });
    stream.end();
    return stream.done;
  }

  /** Streams currently open, for metrics and tests. */
  get size(): number {
    let n = 0;
    for (const e of this.entries.values()) if (e.stream && !e.stream.closed) n++;
    return n;
  }

  async close(drainMs: number): Promise<void> {
    this.closing = true;
    const deadline = Date.now() + drainMs;
    // Let streams being set up deliver what they hold, within the drain time.
    while (Date.now() < deadline && [...this.entries.values()].some((e) => e.queue.length > 0)) {
      await new Promise((r) => setTimeout(r, 20));
    }
    this.shutdown.abort();
    for (const [key, e] of [...this.entries]) {
      clearTimeout(e.idle);
      const stream = e.stream;
      e.stream = undefined;
      this.bounce(key, e, new NegotiationError("gateway shutting down", "remote-server-timeout"), key.split("|")[1]!);
      stream?.end();
    }
    this.entries.clear();
  }
}
