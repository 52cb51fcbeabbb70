/**
 * An outbound s2s stream, initiating side (RFC 6120 sections 4-6): STARTTLS
 * unless the connection is direct TLS, the partner's certificate checked per
 * RFC 6125 / XEP-0178, then SASL EXTERNAL when offered and allowed, else
 * dialback (XEP-0220, initiating role). A "verify" stream only carries one
 * dialback verify request for the receiving role and then closes.
 */
import type { Socket } from "node:net";
import type { TLSSocket } from "node:tls";
import type { CertStore } from "../../tls/store.js";
import type { TrustStore } from "../../tls/trust.js";
import { StreamError } from "../../xmpp/errors.js";
import { XmppStream, type StreamOptions } from "./stream.js";
import { authElement, offersExternal } from "./sasl-external.js";
import { resultRequest, verifyRequest } from "./dialback.js";
import { dialbackKey } from "./dialback-keys.js";
import { clientTls } from "./tls.js";
import { SetupTimeout, remaining } from "./timeout.js";
import type { PartnerPolicy } from "./policy.js";
import type { Element } from "../../xmpp/xml.js";
import { heldLength } from "../../xmpp/write-batch.js";
import { NS_SASL, NS_SERVER, NS_TLS, NS_DIALBACK_FEATURE } from "../../xmpp/ns.js";

export interface OutboundEnv extends StreamOptions {
  certs: CertStore;
  trust: () => TrustStore;
  policy: PartnerPolicy;
  requireTls: boolean;
  minVersion: "TLSv1.2" | "TLSv1.3";
  connectTimeoutMs: number;
  dialbackSecret: string;
}

/** What send() gives when the stanza is on its way: already settled, so one serves every stanza. */
const SENT = Promise.resolve();

/** Bytes buffered for a partner before senders wait for it to drain. */
const HIGH_WATER = 1_048_576;

export type Purpose = { kind: "stanzas" } | { kind: "verify"; streamId: string; key: string };

/** Why negotiation failed, with the stanza error condition the queued senders get. */
export class NegotiationError extends Error {
  constructor(
    message: string,
    readonly condition: "remote-server-not-found" | "remote-server-timeout" | "not-authorized" = "remote-server-not-found",
  ) {
    super(message);
  }
}

export class OutboundStream extends XmppStream {
  remoteStreamId = "";
  /** Which discovered target this stream reached, for logs. */
  target = "";
  authenticatedVia: "certificate" | "dialback" | undefined;
  private saslDone = false;
  private settled = false;
  /** Between <proceed/> and the end of the TLS handshake. */
  private upgrading = false;
  /** What the set-up waits for, so a timeout says where the peer stalled. */
  private waitingFor = "the stream header";
  private resolveDone!: (v: boolean) => void;
  private rejectDone!: (e: Error) => void;
  /** Resolves when the stream can carry stanzas (or, for a verify stream, with the verdict). */
  readonly done: Promise<boolean>;

  constructor(
    socket: Socket,
    directTls: boolean,
    readonly localDomain: string,
    readonly remoteDomain: string,
    private readonly env: OutboundEnv,
    private readonly purpose: Purpose,
    /** The target's whole set-up (TCP and TLS included, already begun by the caller) ends here. */
    private readonly deadline = Date.now() + env.connectTimeoutMs,
  ) {
    super(socket, env);
    this.secure = directTls;
    this.done = new Promise<boolean>((res, rej) => {
      this.resolveDone = res;
      this.rejectDone = rej;
    });
    this.done.catch(() => undefined);
    const timer = setTimeout(
      () => this.abort(new NegotiationError(`set-up not done within ${env.connectTimeoutMs} ms (waiting for ${this.waitingFor})`, "remote-server-timeout")),
      remaining(deadline),
    );
    timer.unref();
    this.done.finally(() => clearTimeout(timer)).catch(() => undefined);
    this.parser.on("streamStart", (attrs) => this.onStreamStart(attrs));
    this.parser.on("stanza", (el) => this.onElement(el));
    this.parser.on("streamEnd", () => this.end());
    this.on("streamError", (err: StreamError) => this.settle(new NegotiationError(`we ended the stream: ${err.condition}${err.text ? ` (${err.text})` : ""}`)));
    this.on("closed", () => this.settle(new NegotiationError(`connection closed while waiting for ${this.waitingFor}`)));
    this.open();
  }

  private open(): void {
    this.waitingFor = "the stream header";
    this.sendHeader({ from: this.localDomain, to: this.remoteDomain });
  }

  private request(data: string | Element, waitingFor: string): void {
    this.waitingFor = waitingFor;
    this.write(data);
  }

  private settle(result: boolean | Error): void {
    if (this.settled) return;
    this.settled = true;
    if (result instanceof Error) this.rejectDone(result);
    else this.resolveDone(result);
  }

  private abort(err: NegotiationError): void {
    if (this.settled) return;
    this.settle(err);
    // Mid-handshake the connection carries TLS records: a stream error in plain XML would only be garbage there.
    if (this.upgrading) return this.destroy();
    this.fail(new StreamError(err.condition === "remote-server-timeout" ? "connection-timeout" : "policy-violation", err.message));
  }

  get ready(): boolean {
    return this.settled && this.authenticatedVia !== undefined && !this.closed;
  }

  private onStreamStart(attrs: Record<string, string>): void {
    if (attrs.xmlns !== NS_SERVER) return this.abort(new NegotiationError("peer stream is not jabber:server"));
    this.remoteStreamId = attrs.id ?? "";
    this.waitingFor = "stream features";
  }

  private onElement(el: Element): void {
    if (el.name === "stream:error") {
      const err = StreamError.fromElement(el);
      this.log.info({ remote: this.remoteDomain, condition: err.condition, text: err.text }, "s2s peer sent a stream error");
      this.settle(new NegotiationError(`${this.remoteDomain} refused the stream: ${err.condition}${err.text ? ` (${err.text})` : ""}`));
      return this.end();
    }
    if (el.name === "stream:features") return void this.onFeatures(el);
    if (el.name === "proceed" && el.attrs.xmlns === NS_TLS) return void this.startTls();
    if (el.name === "failure" && el.attrs.xmlns === NS_TLS) return this.abort(new NegotiationError("peer failed STARTTLS"));
    if (el.name === "success" && el.attrs.xmlns === NS_SASL) {
      this.saslDone = true;
      this.authenticatedVia = "certificate";
      this.headerSent = false;
      this.parser.reset();
      return this.open();
    }
    if (el.name === "failure" && el.attrs.xmlns === NS_SASL) {
      if (this.env.policy.allows(this.remoteDomain, "dialback")) return this.dialback();
      return this.abort(new NegotiationError(`${this.remoteDomain} refused our certificate (SASL EXTERNAL)`, "not-authorized"));
    }
    if (el.name === "db:result") return this.onDialbackResult(el);
    if (el.name === "db:verify") return this.onVerifyResult(el);
    // Stanzas on our outbound stream are not expected (it is one-way); ignore them.
  }

  private async startTls(): Promise<void> {
    const raw = this.detach();
    this.upgrading = true;
    this.waitingFor = "the TLS handshake";
    try {
      const tls = await clientTls({
        certs: this.env.certs,
        trust: this.env.trust(),
        localDomain: this.localDomain,
        remoteDomain: this.remoteDomain,
        minVersion: this.env.minVersion,
        timeoutMs: remaining(this.deadline),
        socket: raw,
      });
      this.upgrading = false;
      if (this.closed) return void tls.destroy();
      this.secure = true;
      this.headerSent = false;
      this.parser.reset();
      this.attach(tls);
      this.open();
    } catch (err) {
      this.upgrading = false;
      raw.destroy();
      const timedOut = err instanceof SetupTimeout;
      this.settle(new NegotiationError(`TLS handshake failed: ${(err as Error).message}`, timedOut ? "remote-server-timeout" : "remote-server-not-found"));
      this.destroy();
    }
  }

  private peerVerdict() {
    const s = this.socket as TLSSocket;
    return this.env.trust().assess({
      domain: this.remoteDomain,
      service: "xmpp-server",
      cert: this.peerCertificate(),
      chainAuthorized: s.authorized === true,
      chainError: s.authorizationError ? String(s.authorizationError) : undefined,
    });
  }

  private onFeatures(features: Element): void {
    if (!this.secure) {
      if (features.getChild("starttls", NS_TLS)) return this.request(`<starttls xmlns='${NS_TLS}'/>`, "the STARTTLS answer");
      if (this.env.requireTls) return this.abort(new NegotiationError(`${this.remoteDomain} does not offer TLS`));
    }
    if (this.saslDone) return this.settle(true);
    const partner = this.env.policy.settings(this.remoteDomain);
    const verdict = this.secure ? this.peerVerdict() : { ok: false, reason: "no TLS" };
    // Certificate-only partners must prove their domain to us too (XEP-0178 section 2, RFC 6125).
    if (!verdict.ok && !partner.methods.includes("dialback")) {
      return this.abort(new NegotiationError(`certificate of ${this.remoteDomain} not acceptable: ${verdict.reason}`, "not-authorized"));
    }
    if (!verdict.ok) this.log.info({ remote: this.remoteDomain, reason: verdict.reason }, "s2s peer certificate not verified; relying on dialback");
    if (this.purpose.kind === "verify") {
      const p = this.purpose;
      return this.request(verifyRequest(this.localDomain, this.remoteDomain, p.streamId, p.key), "the dialback verify answer");
    }
    if (partner.methods.includes("certificate") && this.secure && offersExternal(features)) {
      return this.request(authElement(this.localDomain), "the SASL EXTERNAL outcome");
    }
    if (partner.methods.includes("dialback") && (features.getChild("dialback", NS_DIALBACK_FEATURE) || this.remoteStreamId)) {
      return this.dialback();
    }
    this.abort(new NegotiationError(`no authentication method in common with ${this.remoteDomain}`, "not-authorized"));
  }

  /** Initiating role, XEP-0220 section 2.1.1. */
  private dialback(): void {
    if (!this.remoteStreamId) return this.abort(new NegotiationError(`${this.remoteDomain} gave no stream id for dialback`));
    const key = dialbackKey(this.env.dialbackSecret, this.remoteDomain, this.localDomain, this.remoteStreamId);
    this.request(resultRequest(this.localDomain, this.remoteDomain, key), "the dialback result");
  }

  private onDialbackResult(el: Element): void {
    const type = el.attrs.type;
    if (type === "valid") {
      this.authenticatedVia = "dialback";
      return this.settle(true);
    }
    const cond = el.getChild("error")?.getChildElements()[0]?.name;
    this.abort(new NegotiationError(`${this.remoteDomain} did not accept our dialback key (${type}${cond ? `: ${cond}` : ""})`, "not-authorized"));
  }

  private onVerifyResult(el: Element): void {
    if (this.purpose.kind !== "verify") return;
    if (el.attrs.id !== this.purpose.streamId) return;
    const type = el.attrs.type;
    if (type === "valid" || type === "invalid") {
      this.settle(type === "valid");
      return this.end();
    }
    this.abort(new NegotiationError(`${this.remoteDomain} could not verify the key (${type ?? "no type"})`));
  }

  /**
   * A stanza on a ready stream. Resolves at once unless the partner reads
   * slower than we write: then when the socket drains, so callers slow down
   * instead of the buffer growing without bound.
   */
  send(el: Element): Promise<void> {
    this.batch(el);
    if (this.socket.writableLength + heldLength(this.socket) < HIGH_WATER) return SENT;
    // One wait shared by every sender, however many are blocked.
    this.drained ??= new Promise<void>((resolve) => {
      const done = () => {
        this.socket.off("drain", done);
        this.off("closed", done);
        this.drained = undefined;
        resolve();
      };
      this.socket.on("drain", done);
      this.on("closed", done);
    });
    return this.drained;
  }

  private drained: Promise<void> | undefined;
}
