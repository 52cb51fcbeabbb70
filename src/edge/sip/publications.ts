/**
 * Event state publication for the presence event (RFC 3903): what partners
 * PUBLISH about their own users. Each publication has an entity-tag
 * (SIP-ETag, section 4.1) that a later PUBLISH names in SIP-If-Match to
 * refresh, modify or remove it; a new entity-tag is issued on every success
 * (section 6, step 8). A presentity may have several publications (one per
 * device); its state is the most recently published of those still alive.
 * Whenever that composed state changes, onChange is told: a state, or
 * undefined when the last publication expired or was removed.
 */
import { randomBytes } from "node:crypto";
import type { SecurityContext } from "../../model/envelope.js";
import type { RichPresence } from "../../model/presence.js";

export interface Publication {
  etag: string;
  /** Bare JID of the partner's user whose state this is. */
  presentity: string;
  partnerDomain: string;
  presence: RichPresence;
  expiresAt: number;
  /** Order of publication, for composing several devices' states. */
  seq: number;
  /** How the partner that published it was authenticated, carried on the envelopes it causes. */
  security?: SecurityContext | undefined;
  timer?: NodeJS.Timeout | undefined;
}

export interface PublicationLimits {
  /** Publications held at once over all partners. */
  maxTotal: number;
  /** Publications per presentity (devices of one user). */
  maxPerPresentity: number;
}

export type ChangeListener = (presentity: string, partnerDomain: string, state: RichPresence | undefined, security: SecurityContext | undefined) => void;

/** Why a conditional PUBLISH failed: no such entity-tag for this presentity (412), or no room (503). */
export type PublishResult = { ok: true; publication: Publication } | { ok: false; reason: "unknown-etag" | "full" };

export class PublicationStore {
  private readonly byEtag = new Map<string, Publication>();
  private readonly byPresentity = new Map<string, Set<Publication>>();
  private seq = 0;

  constructor(
    private limits: PublicationLimits,
    private readonly onChange: ChangeListener,
  ) {}

  setLimits(limits: PublicationLimits): void {
    this.limits = limits;
  }

  get size(): number {
    return this.byEtag.size;
  }

  /** The composed state of a presentity, or undefined when nothing is published. */
  current(presentity: string): RichPresence | undefined {
    let best: Publication | undefined;
    for (const p of this.byPresentity.get(presentity) ?? []) if (!best || p.seq > best.seq) best = p;
    return best?.presence;
  }

  /** A publication without SIP-If-Match: new state with a new entity-tag. */
  create(presentity: string, partnerDomain: string, presence: RichPresence, expiresS: number, security?: SecurityContext): PublishResult {
    const mine = this.byPresentity.get(presentity);
    if (this.byEtag.size >= this.limits.maxTotal || (mine?.size ?? 0) >= this.limits.maxPerPresentity) return { ok: false, reason: "full" };
    const before = this.current(presentity);
    const p: Publication = { etag: newEtag(), presentity, partnerDomain, presence, expiresAt: 0, seq: ++this.seq, security };
    this.byEtag.set(p.etag, p);
    if (mine) mine.add(p);
    else this.byPresentity.set(presentity, new Set([p]));
    this.arm(p, expiresS);
    this.changed(presentity, partnerDomain, before, security);
    return { ok: true, publication: p };
  }

  /**
   * SIP-If-Match with or without a body: a refresh (presence undefined) keeps
   * the state and only moves the expiry; a modification replaces the state.
   * Either way the entity-tag changes. The tag must belong to the presentity.
   */
  update(etag: string, presentity: string, presence: RichPresence | undefined, expiresS: number, security?: SecurityContext): PublishResult {
    const p = this.byEtag.get(etag);
    if (!p || p.presentity !== presentity) return { ok: false, reason: "unknown-etag" };
    const before = this.current(presentity);
    this.byEtag.delete(p.etag);
    p.etag = newEtag();
    this.byEtag.set(p.etag, p);
    if (security) p.security = security;
    if (presence) {
      p.presence = presence;
      p.seq = ++this.seq;
    }
    this.arm(p, expiresS);
    if (presence) this.changed(presentity, p.partnerDomain, before, p.security);
    return { ok: true, publication: p };
  }

  /** Expires: 0 with SIP-If-Match (RFC 3903 4.5): the publication ends now. */
  remove(etag: string, presentity: string): PublishResult {
    const p = this.byEtag.get(etag);
    if (!p || p.presentity !== presentity) return { ok: false, reason: "unknown-etag" };
    this.drop(p);
    return { ok: true, publication: p };
  }

  /** Ends every publication of the partner domains named (they left the federation list). */
  removeWhere(domainGone: (partnerDomain: string) => boolean): void {
    for (const p of [...this.byEtag.values()]) if (domainGone(p.partnerDomain)) this.drop(p);
  }

  clear(): void {
    for (const p of this.byEtag.values()) if (p.timer) clearTimeout(p.timer);
    this.byEtag.clear();
    this.byPresentity.clear();
  }

  private drop(p: Publication): void {
    const before = this.current(p.presentity);
    if (p.timer) clearTimeout(p.timer);
    this.byEtag.delete(p.etag);
    const set = this.byPresentity.get(p.presentity);
    set?.delete(p);
    if (set && set.size === 0) this.byPresentity.delete(p.presentity);
    this.changed(p.presentity, p.partnerDomain, before, p.security);
  }

  private arm(p: Publication, expiresS: number): void {
    if (p.timer) clearTimeout(p.timer);
    p.expiresAt = Date.now() + expiresS * 1000;
    // RFC 3903 section 5: state not refreshed in time is gone, as if removed.
    p.timer = setTimeout(() => {
      if (this.byEtag.get(p.etag) === p) this.drop(p);
    }, expiresS * 1000).unref();
  }

  private changed(presentity: string, partnerDomain: string, before: RichPresence | undefined, security: SecurityContext | undefined): void {
    const after = this.current(presentity);
    if (before === undefined && after === undefined) return;
    if (before !== undefined && after !== undefined && before.state === after.state && before.note === after.note) return;
    this.onChange(presentity, partnerDomain, after, security);
  }
}

/** Entity-tags are opaque tokens (RFC 3903 section 11.3), unguessable so one partner cannot touch another's. */
function newEtag(): string {
  return randomBytes(12).toString("base64url");
}
