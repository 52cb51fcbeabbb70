/**
 * What every client connection shares: the core, settings, the auth throttle,
 * the TLS upgrade, and the registry of sessions waiting to be resumed.
 */
import { createHmac, randomBytes } from "node:crypto";
import type { StateMap } from "../../mapping/state-map.js";
import type { Socket } from "node:net";
import type { TLSSocket } from "node:tls";
import type { Logger } from "../../log.js";
import type { Config } from "../../config/schema.js";
import type { PresenceCore } from "../../core/core.js";
import type { LaneOptions, RouteLane } from "../../router/lane.js";
import type { C2sSession } from "./session.js";
import type { AuthThrottle } from "./throttle.js";

/** Why a client's stream was closed for not keeping up (unsent.ts): still above a bound after the grace, or far above it at once. */
export type StallReason = "grace_expired" | "hard_limit";

export interface C2sEnv {
  core: PresenceCore;
  domains: ReadonlySet<string>;
  /** The presence state map in force, for rendering rich states; the shipped one without it. */
  states?: (() => StateMap) | undefined;
  cfg: Config["c2s"];
  log: Logger;
  throttle: AuthThrottle;
  upgrade(raw: Socket): Promise<TLSSocket>;
  fakeSalt(username: string): Buffer;
  sessions: SessionRegistry;
  connections: Set<{ close(err?: import("../../xmpp/errors.js").StreamError): void }>;
  /** Counts a stream closed because its client did not keep up (c2s.max_unsent_kb, c2s.max_unacked), by reason. */
  stalled?: ((reason: StallReason) => void) | undefined;
  /** An ordered lane through the router for one session's messages (absent: the core's shared route). */
  lane?: ((opts: LaneOptions) => RouteLane) | undefined;
}

/** A per-process secret so the salts of unknown users are stable but unguessable. */
export function fakeSaltFn(): (username: string) => Buffer {
  const secret = randomBytes(32);
  return (u) => createHmac("sha256", secret).update(u).digest().subarray(0, 16);
}

/** XEP-0198 section 5: sessions that lost their connection and may be resumed. */
export class SessionRegistry {
  private readonly byId = new Map<string, C2sSession>();
  private readonly timers = new Map<C2sSession, NodeJS.Timeout>();
  readonly live = new Set<C2sSession>();

  constructor(private readonly timeoutMs: () => number) {}

  register(s: C2sSession): void {
    if (s.sm?.resumable) this.byId.set(s.sm.id, s);
  }

  /** Detached: ends by itself unless resumed in time. */
  park(s: C2sSession): void {
    clearTimeout(this.timers.get(s));
    const t = setTimeout(() => {
      this.timers.delete(s);
      s.end(false);
    }, this.timeoutMs());
    t.unref();
    this.timers.set(s, t);
  }

  /** The session to resume, if it exists and belongs to this user. */
  take(id: string, bare: string): C2sSession | undefined {
    const s = this.byId.get(id);
    if (!s || s.ended || s.bare !== bare) return undefined;
    clearTimeout(this.timers.get(s));
    this.timers.delete(s);
    return s;
  }

  ended(s: C2sSession): void {
    clearTimeout(this.timers.get(s));
    this.timers.delete(s);
    if (s.sm) this.byId.delete(s.sm.id);
    this.live.delete(s);
  }

  get parked(): number {
    return this.timers.size;
  }

  /** Shutdown: every session ends now. */
  endAll(): void {
    for (const s of [...this.byId.values(), ...this.live]) s.end(false);
  }
}
