/**
 * An inbound s2s stream (RFC 6120 sections 4-6, 8.1.2.1, 13): negotiate TLS,
 * authenticate the peer's domain with SASL EXTERNAL (XEP-0178) or dialback
 * (XEP-0220, receiving role), answer dialback verify requests for our own
 * domains (authoritative role), and pass on stanzas whose 'from' domain was
 * authenticated on this stream. Anything else ends the stream with the
 * matching RFC 6120 stream error.
 */
import type { Socket } from "node:net";
import type { TLSSocket } from "node:tls";
import { isValidDomain, parseJid, JidMalformedError } from "../../model/jid.js";
import type { TrustStore } from "../../tls/trust.js";
import { StreamError } from "../../xmpp/errors.js";
import { XmppStream, type StreamOptions } from "./stream.js";
import { newStreamId } from "../../xmpp/stream-header.js";
import { inboundFeatures } from "./features.js";
import { decodeAuthzid, failureElement, successElement } from "./sasl-external.js";
import { answerVerify, resultResponse } from "./dialback.js";
import type { PartnerPolicy, AuthMethod } from "./policy.js";
import type { TlsAcceptor } from "./tls.js";
import type { Element } from "../../xmpp/xml.js";
import { NS_SASL, NS_SERVER, NS_TLS } from "../../xmpp/ns.js";
import { InboundStreamManagement, NS_SM, type DeliveryConfirm } from "./s2s-sm.js";

export interface InboundEnv extends StreamOptions {
  policy: PartnerPolicy;
  trust: () => TrustStore;
  tls: TlsAcceptor;
  requireTls: boolean;
  authTimeoutMs: number;
  /** An authenticated stream with no traffic for this long is closed (the peer reconnects when it needs to). */
  idleTimeoutMs: number;
  dialbackSecret: string;
  /** Receiving role: ask the authoritative server of `remote` (via an outbound stream) whether the key is valid. */
  verifyDialback(req: { local: string; remote: string; streamId: string; key: string }): Promise<boolean>;
  /** A stanza that passed the stream's checks, with the domains of its 'from' and 'to' as they were checked. */
  onStanza(el: Element, session: InboundSession, fromDomain: string, toDomain: string): void;
  /** Confirms deliveries before stanzas are acknowledged under XEP-0198 (split mode's component links). */
  confirm?: DeliveryConfirm | undefined;
}

const STANZAS = new Set(["message", "presence", "iq"]);
const MAX_PENDING_DIALBACK = 8;

export class InboundSession extends XmppStream {
  /** Stream id we assigned in our header, the one dialback keys are bound to. */
  streamId = "";
  localDomain: string | undefined;
  /** The 'from' of the peer's header, when it sent one. */
  claimedDomain: string | undefined;
  /** Domains authenticated on this stream and how. */
  readonly authenticated = new Map<string, AuthMethod>();
  private saslDone = false;
  private upgrading = false;
  private deadline: NodeJS.Timeout;
  private readonly pendingDialback = new Set<string>();
  /** XEP-0198: stanzas are acknowledged only once handled (see s2s-sm.ts). */
  readonly sm: InboundStreamManagement;

  constructor(
    socket: Socket,
    private readonly env: InboundEnv,
    readonly directTls: boolean,
  ) {
    super(socket, env);
    this.secure = directTls;
    this.sm = new InboundStreamManagement({
      write: (el) => this.write(el),
      fail: (reason) => this.fail(new StreamError("internal-server-error", `deliveries not confirmed (${reason}); unacknowledged stanzas are yours to return`), this.headerAttrs()),
      confirm: env.confirm,
      onEnabled: () => this.log.info({ remote: this.claimedDomain, confirmed: !!env.confirm }, "s2s inbound stream management enabled"),
    });
    // Section 13.12: an unauthenticated stream (and a header that never ends) gets a deadline.
    this.deadline = setTimeout(() => this.fail(new StreamError("connection-timeout", "no domain authenticated in time"), this.headerAttrs()), env.authTimeoutMs);
    this.deadline.unref();
    this.parser.on("streamStart", (attrs) => this.onStreamStart(attrs));
    this.parser.on("stanza", (el) => this.onElement(el));
    this.parser.on("streamEnd", () => this.end());
    this.on("closed", () => {
      clearTimeout(this.deadline);
      clearInterval(this.idleCheck);
    });
    this.idleCheck = setInterval(() => {
      if (Date.now() - this.lastActivity > env.idleTimeoutMs) {
        this.log.debug({ remote: [...this.authenticated.keys()], address: this.remoteAddress }, "s2s inbound stream idle; closing");
        this.end();
      }
    }, Math.max(250, Math.floor(env.idleTimeoutMs / 4)));
    this.idleCheck.unref();
  }

  private lastActivity = Date.now();
  private idleCheck: NodeJS.Timeout;

  private headerAttrs() {
    return { from: this.localDomain, to: this.claimedDomain };
  }

  private onStreamStart(attrs: Record<string, string>): void {
    this.localDomain = undefined;
    const to = (attrs.to ?? "").toLowerCase();
    const from = attrs.from?.toLowerCase();
    if (from !== undefined) this.claimedDomain = from;
    if (this.env.policy.hosted(to)) this.localDomain = to;
    // Section 4.8.2: the content namespace of a server stream.
    if (attrs.xmlns !== NS_SERVER) return this.fail(new StreamError("invalid-namespace", `expected ${NS_SERVER}`), this.headerAttrs());
    if (attrs.version !== "1.0") return this.fail(new StreamError("unsupported-version", "version 1.0 required"), this.headerAttrs());
    if (!this.localDomain) return this.fail(new StreamError("host-unknown", to ? `${to} is not served here` : "no 'to' in the stream header"));
    if (from !== undefined) {
      if (!isValidDomain(from)) return this.fail(new StreamError("invalid-from", "the 'from' is not a domain"), this.headerAttrs());
      const partner = this.env.policy.settings(from);
      if (!partner.allowed) return this.fail(new StreamError("policy-violation", partner.reason), this.headerAttrs());
      this.parser.maxStanzaBytes = partner.maxStanzaBytes;
    }
    this.streamId = newStreamId();
    this.sendHeader({ from: this.localDomain, to: from, id: this.streamId });
    const offerExternal = this.canUseCertificate(from);
    const offerDialback = from === undefined || this.env.policy.allows(from, "dialback");
    // A certificate-only partner whose certificate does not prove its domain has no way left: say so now, not at the deadline.
    if (this.secure && !this.saslDone && from !== undefined && !offerExternal && !offerDialback && this.authenticated.size === 0) {
      const verdict = this.assess(from);
      this.log.info({ remote: from, reason: verdict.reason }, "s2s certificate-only partner refused");
      return this.fail(new StreamError("not-authorized", `certificate not acceptable for ${from}: ${verdict.reason ?? "not allowed"}`));
    }
    this.write(
      inboundFeatures({
        secure: this.secure,
        tlsAvailable: true,
        requireTls: this.env.requireTls,
        saslDone: this.saslDone,
        offerExternal,
        offerDialback,
        offerSm: this.authenticated.size > 0,
      }),
    );
  }

  /** XEP-0178 section 3: EXTERNAL is offered only when the certificate is acceptable for the claimed domain. */
  private canUseCertificate(domain: string | undefined): boolean {
    if (!this.secure || !domain || !this.env.policy.allows(domain, "certificate")) return false;
    return this.assess(domain).ok;
  }

  private assess(domain: string) {
    const s = this.socket as TLSSocket;
    return this.env.trust().assess({
      domain,
      service: "xmpp-server",
      cert: this.peerCertificate(),
      chainAuthorized: s.authorized === true,
      chainError: s.authorizationError ? String(s.authorizationError) : undefined,
    });
  }

  private onElement(el: Element): void {
    // Nothing may follow <starttls/> before the handshake (RFC 6120 section 5.4.3.3); what did is dropped.
    if (!this.localDomain || this.closed || this.upgrading) return;
    this.lastActivity = Date.now();
    if (el.name === "stream:error") {
      const err = StreamError.fromElement(el);
      this.log.info({ remote: this.claimedDomain, condition: err.condition, text: err.text }, "s2s peer ended its stream with an error");
      return this.end();
    }
    if (el.name === "starttls" && el.attrs.xmlns === NS_TLS) return void this.startTls();
    if (el.name === "auth" && el.attrs.xmlns === NS_SASL) return this.saslExternal(el);
    // require_tls covers the authoritative role too: our answers say which keys are ours, which is no business of a plaintext stream.
    if (this.env.requireTls && !this.secure) {
      return this.fail(new StreamError("policy-violation", "TLS is required before anything else"), this.headerAttrs());
    }
    if (el.name === "db:verify") {
      // Authoritative role: allowed before authentication (XEP-0220 section 2.1.3).
      return this.write(answerVerify(el, this.env.dialbackSecret, (d) => this.env.policy.hosted(d)));
    }
    if (el.name === "db:result") return void this.dialbackResult(el);
    if (el.attrs.xmlns === NS_SM && this.authenticated.size > 0) return this.sm.element(el);
    if (STANZAS.has(el.name)) return this.stanza(el);
    this.fail(new StreamError("unsupported-stanza-type", `<${el.name}/> is not a stanza`), this.headerAttrs());
  }

  private async startTls(): Promise<void> {
    if (this.secure) return this.fail(new StreamError("policy-violation", "TLS is already in place"), this.headerAttrs());
    this.write(`<proceed xmlns='${NS_TLS}'/>`);
    this.upgrading = true;
    const raw = this.detach();
    try {
      const tls = await this.env.tls.upgrade(raw, this.env.authTimeoutMs);
      this.secure = true;
      this.upgrading = false;
      this.headerSent = false;
      this.parser.reset();
      this.attach(tls);
    } catch (err) {
      this.log.info({ remote: this.remoteAddress, err: (err as Error).message }, "s2s TLS handshake failed");
      raw.destroy();
      this.destroy();
    }
  }

  private saslExternal(el: Element): void {
    if (this.saslDone) return this.fail(new StreamError("policy-violation", "already authenticated"), this.headerAttrs());
    if (!this.secure) return this.write(failureElement("encryption-required"));
    if ((el.attrs.mechanism ?? "").toUpperCase() !== "EXTERNAL") return this.write(failureElement("invalid-mechanism"));
    let domain: string | undefined;
    try {
      domain = decodeAuthzid(el.getText()) ?? this.claimedDomain;
    } catch {
      return this.write(failureElement("incorrect-encoding"));
    }
    if (!domain || !isValidDomain(domain)) return this.write(failureElement("invalid-authzid", "no domain to authorize"));
    if (this.claimedDomain && domain !== this.claimedDomain) {
      return this.write(failureElement("invalid-authzid", "the authorization identity differs from the stream's 'from'"));
    }
    if (!this.env.policy.allows(domain, "certificate")) return this.write(failureElement("not-authorized", "certificates are not accepted from this domain"));
    const verdict = this.assess(domain);
    if (!verdict.ok) {
      this.log.info({ domain, reason: verdict.reason }, "s2s SASL EXTERNAL refused");
      return this.write(failureElement("not-authorized", verdict.reason));
    }
    this.authenticate(domain, "certificate");
    this.saslDone = true;
    this.write(successElement());
    // Section 6.4.6: the stream restarts after success.
    this.headerSent = false;
    this.parser.reset();
  }

  /** Receiving role, XEP-0220 section 2.1.2. */
  private async dialbackResult(el: Element): Promise<void> {
    const remote = (el.attrs.from ?? "").toLowerCase();
    const local = (el.attrs.to ?? "").toLowerCase();
    const key = el.getText().trim();
    const reply = (type: "valid" | "invalid" | "error", condition?: string, text?: string) =>
      this.write(resultResponse(local, remote, type, condition, text));
    if (!isValidDomain(remote)) return this.fail(new StreamError("invalid-from", "dialback 'from' is not a domain"), this.headerAttrs());
    if (!this.env.policy.hosted(local)) return reply("error", "item-not-found", `${local} is not served here`);
    const partner = this.env.policy.settings(remote);
    if (!partner.allowed) return reply("error", "forbidden", partner.reason);
    if (!partner.methods.includes("dialback")) return reply("error", "not-authorized", "this domain must authenticate with a certificate");
    if (!key) return reply("error", "bad-request", "no key");
    if (this.pendingDialback.has(remote)) return;
    // Each request makes us connect out: a stream gets only a few at a time.
    if (this.pendingDialback.size >= MAX_PENDING_DIALBACK) return reply("error", "resource-constraint", "too many dialback requests in progress");
    // XEP-0344 section 2.4: a certificate that proves the domain makes the callback unnecessary.
    if (partner.methods.includes("certificate") && this.secure && this.assess(remote).ok) {
      this.authenticate(remote, "certificate");
      return reply("valid");
    }
    this.pendingDialback.add(remote);
    let valid: boolean;
    try {
      valid = await this.env.verifyDialback({ local, remote, streamId: this.streamId, key });
    } catch (err) {
      this.pendingDialback.delete(remote);
      this.log.info({ remote, err: (err as Error).message }, "s2s dialback: authoritative server unreachable");
      return reply("error", "remote-server-not-found", "the authoritative server could not be reached");
    }
    this.pendingDialback.delete(remote);
    if (this.closed) return;
    if (!valid) {
      reply("invalid");
      this.log.info({ remote }, "s2s dialback key invalid");
      if (this.authenticated.size === 0) this.fail(new StreamError("not-authorized", "dialback key invalid"), this.headerAttrs());
      return;
    }
    this.authenticate(remote, "dialback");
    reply("valid");
  }

  private authenticate(domain: string, how: AuthMethod): void {
    this.authenticated.set(domain, how);
    clearTimeout(this.deadline);
    this.emit("authenticated", domain, how);
    this.log.info({ remote: domain, via: how, address: this.remoteAddress, tls: this.tlsVersion(), directTls: this.directTls }, "s2s inbound stream authenticated");
  }

  /** RFC 6120 section 8.1.2.1 and 13: addresses must be present, well-formed, from an authenticated domain, to a hosted one. */
  private stanza(el: Element): void {
    if (this.authenticated.size === 0) return this.fail(new StreamError("not-authorized", "no domain is authenticated on this stream"), this.headerAttrs());
    const { from, to } = el.attrs;
    if (!from || !to) return this.fail(new StreamError("improper-addressing", "stanzas between servers need 'from' and 'to'"), this.headerAttrs());
    let fromDomain: string, toDomain: string;
    try {
      fromDomain = parseJid(from).domain;
    } catch (err) {
      return this.fail(new StreamError("invalid-from", err instanceof JidMalformedError ? err.message : "bad 'from'"), this.headerAttrs());
    }
    if (!this.authenticated.has(fromDomain)) {
      return this.fail(new StreamError("invalid-from", `${fromDomain} is not authenticated on this stream`), this.headerAttrs());
    }
    const refused = this.env.policy.refusal(fromDomain);
    if (refused) return this.fail(new StreamError("policy-violation", refused), this.headerAttrs());
    try {
      toDomain = parseJid(to).domain;
    } catch (err) {
      return this.fail(new StreamError("improper-addressing", err instanceof JidMalformedError ? err.message : "bad 'to'"), this.headerAttrs());
    }
    if (!this.env.policy.hosted(toDomain)) return this.fail(new StreamError("host-unknown", `${toDomain} is not served here`), this.headerAttrs());
    this.env.onStanza(el, this, fromDomain, toDomain);
  }
}
