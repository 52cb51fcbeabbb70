/**
 * Inbound PUBLISH for the presence event (RFC 3903 section 6, RFC 3856): a
 * partner tells us its user's presence. The partner is authenticated as for
 * MESSAGE and NOTIFY (RFC 5922) and may only publish for users of its own
 * domain. The published PIDF is read through the partner's profile (Lync
 * availability numbers included) and sent, as inbound XMPP presence through
 * the router, to our users who watch that partner user; when the state
 * expires or is removed they get unavailable. Probes from the core are
 * answered from the published state, since SIP has no probe of its own.
 */
import type { SipMessage } from "sip";
import { bareOf, type Envelope, type SecurityContext } from "../../model/envelope.js";
import type { RichPresence } from "../../model/presence.js";
import { AddressError, sipToJid } from "../../mapping/address.js";
import { fromPidf, PIDF_TYPE, PidfError } from "../../mapping/pidf.js";
import type { Respond, SipEdge } from "./edge.js";
import type { Flow } from "./flow.js";
import type { Profile } from "../../mapping/state-map.js";
import { binaryToUtf8, contentType, header, response, warning } from "./message.js";
import { envelope, eventIsPresence, routeQuiet } from "./presence-shared.js";
import { PublicationStore } from "./publications.js";
import { watchersOf, type WatcherDirectory } from "./watchers.js";

/** RFC 3903's spelling: header names are case-insensitive (RFC 3261 7.3.1), but not every peer matches them so. */
const SIP_ETAG = "SIP-ETag";

export class PresencePublications {
  readonly store: PublicationStore;

  constructor(
    private readonly edge: SipEdge,
    private readonly directory: () => WatcherDirectory | undefined,
  ) {
    this.store = new PublicationStore(limitsOf(edge), (presentity, domain, state, security) => this.fanOut(presentity, domain, state, security));
  }

  /** Settings and the federation list may have changed: publications of domains no longer allowed end. */
  update(): void {
    this.store.setLimits(limitsOf(this.edge));
    this.store.removeWhere((d) => this.edge.gate.allowedDomain(d) !== undefined);
  }

  private fanOut(presentity: string, domain: string, state: RichPresence | undefined, security: SecurityContext | undefined): void {
    const fields: Partial<Envelope> = !state || state.state === "offline" ? { type: "unavailable", ...(state ? { presence: state } : {}) } : { presence: state };
    for (const watcher of watchersOf(this.edge, this.directory(), presentity)) {
      routeQuiet(this.edge, envelope(this.edge, presentity, watcher, domain, { ...fields, ...(security ? { security } : {}) }));
    }
  }

  /** An XMPP probe for a partner's user (RFC 6121 4.3): answered when that user has published state. */
  answerProbe(e: Envelope): boolean {
    const presentity = bareOf(e.to);
    const state = this.store.current(presentity);
    if (!state) return false;
    const fields: Partial<Envelope> = state.state === "offline" ? { type: "unavailable", presence: state } : { presence: state };
    routeQuiet(this.edge, envelope(this.edge, presentity, bareOf(e.from), e.partnerDomain!, fields));
    return true;
  }

  async onPublish(rq: SipMessage, flow: Flow, respond: Respond): Promise<void> {
    const edge = this.edge;
    // RFC 3903 6 step 2: an event package we do not take is 489 with the ones we do.
    if (!eventIsPresence(rq)) {
      respond(response(rq, 489, "Bad Event", { headers: { "allow-events": "presence" } }));
      return;
    }
    const gate = edge.gate.check(rq, flow);
    if (!gate.ok) {
      respond(response(rq, gate.status, gate.reason, { headers: { warning: warning(edge.hostFor(), gate.text) } }));
      return;
    }
    let presentity: string;
    try {
      presentity = sipToJid(rq.uri ?? "");
    } catch (err) {
      if (err instanceof AddressError) {
        respond(response(rq, 484, "Address Incomplete"));
        return;
      }
      throw err;
    }
    // RFC 3903 6 step 3: authorised to publish this resource's state - a partner speaks only for its own users.
    if (presentity.split("@")[1] !== gate.domain) {
      respond(response(rq, 403, "Forbidden", { headers: { warning: warning(edge.hostFor(), `${gate.domain} may only publish the state of its own users`) } }));
      return;
    }
    const expires = this.expiresOf(rq);
    if (expires === "bad") {
      respond(response(rq, 400, "Invalid Expires"));
      return;
    }
    if (typeof expires !== "number") {
      // RFC 3903 6 step 5: 423 with the shortest interval we take.
      respond(response(rq, 423, "Interval Too Brief", { headers: { "min-expires": expires.min } }));
      return;
    }
    const body = this.readState(rq, gate.profile, respond);
    if (body) this.commit(rq, respond, { presentity, domain: gate.domain, security: gate.security, presence: body.presence, expires });
  }

  /** The published state, if the request carries any; undefined when the request was refused for its body. */
  private readState(rq: SipMessage, profile: Profile, respond: Respond): { presence: RichPresence | undefined } | undefined {
    if (!rq.content) return { presence: undefined };
    // RFC 3903 6 step 6: a body we cannot read is 415 with the types we take.
    if (contentType(rq) !== PIDF_TYPE) {
      respond(response(rq, 415, "Unsupported Media Type", { headers: { accept: PIDF_TYPE } }));
      return undefined;
    }
    try {
      return { presence: fromPidf(binaryToUtf8(rq.content), profile, this.edge.states()) };
    } catch (err) {
      if (!(err instanceof PidfError)) throw err;
      respond(response(rq, 400, "Bad Request", { headers: { warning: warning(this.edge.hostFor(), err.message) } }));
      return undefined;
    }
  }

  /** Creates, refreshes, modifies or removes the publication (RFC 3903 6 steps 4 and 7). */
  private commit(rq: SipMessage, respond: Respond, p: { presentity: string; domain: string; security: SecurityContext; presence: RichPresence | undefined; expires: number }): void {
    const { presentity, presence, expires } = p;
    const edge = this.edge;
    const ifMatch = header(rq, "sip-if-match")?.trim();
    if (!ifMatch) {
      // RFC 3903 6 step 4: an initial publication carries state.
      if (!presence) {
        respond(response(rq, 400, "Invalid Request", { headers: { warning: warning(edge.hostFor(), "an initial PUBLISH needs a PIDF body") } }));
        return;
      }
      if (expires === 0) {
        respond(response(rq, 200, "OK", { headers: { expires: 0 } }));
        return;
      }
      const r = this.store.create(presentity, p.domain, presence, expires, p.security);
      if (!r.ok) {
        respond(response(rq, 503, "Service Unavailable", { headers: { "retry-after": 60 } }));
        return;
      }
      respond(response(rq, 200, "OK", { headers: { [SIP_ETAG]: r.publication.etag, expires } }));
      return;
    }
    // RFC 3903 6 step 4: an entity-tag we do not hold for this resource is 412.
    const r = expires === 0 ? this.store.remove(ifMatch, presentity) : this.store.update(ifMatch, presentity, presence, expires, p.security);
    if (!r.ok) {
      respond(response(rq, 412, "Conditional Request Failed"));
      return;
    }
    respond(response(rq, 200, "OK", { headers: { [SIP_ETAG]: r.publication.etag, expires } }));
  }

  private expiresOf(rq: SipMessage): number | { min: number } | "bad" {
    const s = this.edge.cfg.sip.publications;
    const raw = header(rq, "expires")?.trim();
    if (raw === undefined || raw === "") return s.default_expires_s;
    if (!/^\d{1,10}$/.test(raw)) return "bad";
    const n = Number.parseInt(raw, 10);
    if (n > 0 && n < s.min_expires_s) return { min: s.min_expires_s };
    // RFC 3903 6 step 5: longer than we keep state is shortened, and the 200 says so.
    return Math.min(n, s.max_expires_s);
  }
}

function limitsOf(edge: SipEdge): { maxTotal: number; maxPerPresentity: number } {
  const p = edge.cfg.sip.publications;
  return { maxTotal: p.max_total, maxPerPresentity: p.max_per_presentity };
}
