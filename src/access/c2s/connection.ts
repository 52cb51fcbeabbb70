/**
 * One client stream, RFC 6120 sections 4-7: stream headers, STARTTLS (5),
 * SASL (6), resource binding (7) or XEP-0198 resumption, then the bound
 * session takes the stanzas. Every protocol violation ends the stream with
 * the RFC's condition; the process carries on.
 */
import { randomBytes } from "node:crypto";
import type { Socket } from "node:net";
import type { TLSSocket } from "node:tls";
import { StreamError } from "../../xmpp/errors.js";
import { XmppStreamParser } from "../../xmpp/stream-parser.js";
import { serialize, xml, type Element } from "../../xmpp/xml.js";
import { endSocket, STREAM_CLOSE } from "../../xmpp/stream-header.js";
import { parseJid } from "../../model/jid.js";
import { NS } from "./ns.js";
import { c2sHeader, headerError, streamFeatures } from "./negotiation.js";
import { SaslNegotiation } from "./sasl.js";
import type { C2sEnv } from "./env.js";
import { C2sSession, type Wire } from "./session.js";
import { parseH, smFailed, StreamManagement } from "./sm.js";
import { batchedWrite, flushNow } from "../../xmpp/write-batch.js";
import { UnsentWatch } from "./unsent.js";
import { Inbox } from "./inbox.js";

type State = "header" | "negotiating" | "bound" | "closed";

const STANZAS = new Set(["message", "presence", "iq"]);
const STREAM_END = Symbol("stream end");

class StreamStart { constructor(readonly attrs: Record<string, string>) {} }

export class C2sConnection implements Wire {
  private state: State = "header";
  private readonly parser: XmppStreamParser;
  private domain = "";
  private authenticated: string | undefined;
  private sasl: SaslNegotiation | undefined;
  private saslFailures = 0;
  private session: C2sSession | undefined;
  /** Stanzas are handled one at a time, in order, even when a handler awaits. */
  private readonly inbox = new Inbox<Element | StreamStart | typeof STREAM_END>(
    (item) => this.dispatch(item),
    (err) => {
      this.env.log.error({ address: this.address, err: err.message }, "c2s stream failed");
      this.close(new StreamError("internal-server-error"));
    },
  );
  private authTimer: NodeJS.Timeout | undefined;
  private clean = false;
  readonly address: string;

  constructor(
    private socket: Socket | TLSSocket,
    private secure: boolean,
    private readonly env: C2sEnv,
  ) {
    this.address = socket.remoteAddress ?? "unknown";
    this.parser = new XmppStreamParser({ maxStanzaBytes: env.cfg.max_stanza_bytes });
    this.parser.on("streamStart", (a) => this.inbox.push(new StreamStart(a)));
    this.parser.on("stanza", (el) => this.inbox.push(el));
    this.parser.on("streamEnd", () => this.inbox.push(STREAM_END));
    this.parser.on("error", (err) => this.close(err));
    this.attach(socket);
    this.authTimer = setTimeout(() => {
      if (!this.session) this.close(new StreamError("connection-timeout", "not authenticated in time"));
    }, env.cfg.auth_timeout_s * 1000);
    this.authTimer.unref();
    env.connections.add(this);
  }

  private readonly onData = (chunk: Buffer) => {
    if (this.state !== "closed") this.parser.write(chunk);
  };
  private readonly onClose = () => this.closed();
  private readonly onError = (err: Error) => this.env.log.debug({ address: this.address, err: err.message }, "c2s socket error");

  private attach(s: Socket): void {
    s.on("data", this.onData);
    s.on("close", this.onClose);
    s.on("error", this.onError);
  }
  private detachSocket(s: Socket): void {
    s.off("data", this.onData);
    s.off("close", this.onClose);
    s.off("error", this.onError);
  }

  private async dispatch(item: Element | StreamStart | typeof STREAM_END): Promise<void> {
    if (item === STREAM_END) return this.closeClean();
    if (item instanceof StreamStart) return this.onStreamStart(item.attrs);
    return this.onElement(item);
  }

  pauseReading(): void {
    this.socket.pause();
  }
  resumeReading(): void {
    this.socket.resume();
  }

  send(el: Element | string): void {
    if (this.state === "closed" || this.socket.destroyed) return;
    batchedWrite(this.socket, typeof el === "string" ? el : serialize(el));
    this.unsent.check();
  }

  /** A client that stops reading (or acknowledging) has its stream closed rather than its messages held without bound (unsent.ts). */
  private readonly unsent = new UnsentWatch(() => this.socket, () => this.env, () => this.session?.sm?.pending ?? 0, () => ({ address: this.address, user: this.session?.full }), (text) =>
    this.close(new StreamError("resource-constraint", text)),
  );

  private async onStreamStart(a: Record<string, string>): Promise<void> {
    const to = (a.to ?? "").toLowerCase();
    const err = headerError(a, to, this.env.domains, this.domain);
    if (err) {
      // RFC 6120 4.9.1.3: an error before our header still needs one.
      this.send(c2sHeader(to && this.env.domains.has(to) ? to : [...this.env.domains][0]!));
      return this.close(err);
    }
    this.domain = to;
    this.send(c2sHeader(to));
    this.state = "negotiating";
    this.send(
      streamFeatures({
        secure: this.secure,
        requireTls: this.env.cfg.require_tls,
        authenticated: !!this.authenticated,
        mechanisms: () => (this.sasl ??= this.newSasl()).mechanisms(),
      }),
    );
  }

  private newSasl(): SaslNegotiation {
    const { throttle, fakeSalt, core } = this.env;
    const credentials = async (bare: string) => (await core.store.getUser(bare))?.credentials;
    return new SaslNegotiation({ domain: this.domain, secure: this.secure, address: this.address, throttle, credentials, fakeSalt });
  }

  private async onElement(el: Element): Promise<void> {
    // Stanzas usually inherit the stream's default namespace rather than declare it.
    el.attrs.xmlns ??= NS.client;
    if (this.state === "bound" && this.session) return this.bound(el);
    const ns = el.attrs.xmlns;
    if (ns === NS.tls && el.name === "starttls" && !this.secure) return this.starttls();
    if (ns === NS.sasl && !this.authenticated) return this.saslStep(el);
    if (this.authenticated && ns === NS.client && el.name === "iq") return this.bindIq(el);
    if (this.authenticated && ns === NS.sm && el.name === "resume") return this.resume(el);
    if (this.authenticated && ns === NS.sm && el.name === "enable") return this.send(smFailed("unexpected-request"));
    // RFC 6120 6.4.1 / 5.3.1: nothing else before authentication (and binding).
    this.close(new StreamError("not-authorized", this.secure || !this.env.cfg.require_tls ? "authenticate first" : "STARTTLS first"));
  }

  private async starttls(): Promise<void> {
    this.send(xml("proceed", { xmlns: NS.tls }));
    const raw = this.socket;
    // <proceed/> must be on the wire, in the clear, before TLS takes the socket over.
    flushNow(raw);
    this.detachSocket(raw);
    this.state = "header";
    try {
      this.socket = await this.env.upgrade(raw as Socket);
    } catch (err) {
      this.env.log.debug({ address: this.address, err: (err as Error).message }, "c2s TLS handshake failed");
      raw.destroy();
      this.closed();
      return;
    }
    this.secure = true;
    this.sasl = undefined;
    this.parser.reset();
    this.attach(this.socket);
  }

  private async saslStep(el: Element): Promise<void> {
    if (!this.secure && this.env.cfg.require_tls) {
      this.send(xml("failure", { xmlns: NS.sasl }, xml("encryption-required")));
      return;
    }
    this.sasl ??= this.newSasl();
    const step = await this.sasl.step(el);
    if (this.state === "closed") return;
    this.send(step.reply);
    if (step.success) {
      this.authenticated = step.success;
      this.state = "header";
      this.parser.reset(); // RFC 6120 6.4.6: the stream restarts after success
      this.env.log.info({ user: step.success, address: this.address }, "c2s authenticated");
      return;
    }
    // Every failed exchange counts (RFC 6120 6.4.5), whichever element ended it: a wrong SCRAM proof fails on <response/>.
    if (step.failed && ++this.saslFailures >= this.env.cfg.max_auth_attempts) {
      this.env.log.warn({ address: this.address, attempts: this.saslFailures }, "c2s authentication failed repeatedly; closing");
      this.close(new StreamError("policy-violation", "too many failed authentication attempts"));
    }
  }

  /** RFC 6120 7.6: bind a resource (ours if the client proposes none). */
  private async bindIq(iq: Element): Promise<void> {
    const bind = iq.getChild("bind", NS.bind);
    const reply = (payload: Element) => this.send(xml("iq", { xmlns: NS.client, type: iq.attrs.type === "set" ? "result" : "error", id: iq.attrs.id }, payload));
    if (iq.attrs.type !== "set" || !bind) {
      return this.send(xml("iq", { xmlns: NS.client, type: "error", id: iq.attrs.id }, xml("error", { type: "cancel" }, xml("not-allowed", { xmlns: NS.stanzas }))));
    }
    let resource = bind.getChildText("resource")?.trim() || randomBytes(6).toString("hex");
    try {
      resource = parseJid(`${this.authenticated}/${resource}`).resource!;
    } catch {
      return this.send(xml("iq", { xmlns: NS.client, type: "error", id: iq.attrs.id }, xml("error", { type: "modify" }, xml("bad-request", { xmlns: NS.stanzas }))));
    }
    const session = new C2sSession(`${this.authenticated}/${resource}`, this.domain, this.env.log, (s) => this.env.sessions.ended(s));
    session.states = this.env.states;
    // The session's messages keep their order through the router while sharing journal syncs (RFC 6120 10.1).
    const lane = this.env.lane?.({ pause: () => session.wire?.pauseReading?.(), resume: () => session.wire?.resumeReading?.() });
    const security = { auth: "password" as const, tlsVersion: (this.socket as TLSSocket).getProtocol?.() ?? undefined, remoteAddress: this.address };
    session.core = await this.env.core.connect(this.authenticated!, resource, session, security, lane && ((e) => lane.route(e)));
    session.messagesSettled = lane && (() => lane.idle());
    session.wire = this;
    this.env.sessions.live.add(session);
    this.session = session;
    this.state = "bound";
    clearTimeout(this.authTimer);
    reply(xml("bind", { xmlns: NS.bind }, xml("jid", {}, session.full)));
  }

  private async bound(el: Element): Promise<void> {
    const s = this.session!;
    if (el.attrs.xmlns === NS.sm) return this.smElement(s, el);
    if (el.attrs.xmlns !== NS.client || !STANZAS.has(el.name)) {
      return this.close(new StreamError("unsupported-stanza-type", `<${el.name}/> is not a stanza`));
    }
    await s.handle(el);
  }

  /** XEP-0198 sections 3 and 4: enable, requests and acknowledgements. */
  private smElement(s: C2sSession, el: Element): void {
    if (el.name === "enable") {
      if (s.sm) return this.send(smFailed("unexpected-request"));
      const resumable = el.attrs.resume === "true" || el.attrs.resume === "1";
      s.sm = new StreamManagement(resumable && this.env.cfg.resume_timeout_s > 0, this.env.cfg.max_unacked);
      if (s.sm.resumable) this.env.sessions.register(s);
      return this.send(s.sm.enabled(this.env.cfg.resume_timeout_s));
    }
    if (!s.sm) return this.close(new StreamError("unsupported-stanza-type", "stream management is not enabled"));
    if (el.name === "r") return this.send(s.sm.answer());
    if (el.name === "a") {
      const h = parseH(el.attrs.h);
      if (h === undefined || !s.sm.ack(h)) this.close(new StreamError("undefined-condition", "acknowledged more stanzas than were sent"));
      return;
    }
    this.close(new StreamError("unsupported-stanza-type"));
  }

  /** XEP-0198 section 5: take over a detached session of the same user. */
  private resume(el: Element): void {
    const h = parseH(el.attrs.h);
    const s = this.env.sessions.take(el.attrs.previd ?? "", this.authenticated!);
    if (!s || h === undefined || !s.sm!.ack(h)) {
      if (s) this.env.sessions.park(s);
      return this.send(smFailed("item-not-found"));
    }
    s.wire?.close(new StreamError("conflict", "the session was resumed elsewhere"));
    s.wire = this;
    this.session = s;
    this.state = "bound";
    clearTimeout(this.authTimer);
    this.send(xml("resumed", { xmlns: NS.sm, previd: s.sm!.id, h: String(s.sm!.inbound) }));
    this.unsent.resend(() => s.resendUnacked());
    this.env.log.info({ user: s.full, address: this.address }, "c2s session resumed");
  }

  private closeClean(): void {
    this.clean = true;
    this.close();
  }

  /** Ends the stream (with an error first when given) and the socket. */
  close(err?: StreamError): void {
    if (this.state === "closed") return;
    if (err) {
      this.env.log.debug({ address: this.address, condition: err.condition }, "c2s stream error");
      this.send(err.toXml());
    }
    this.send(STREAM_CLOSE);
    // What is held for this round goes out before the socket ends, not after.
    flushNow(this.socket);
    endSocket(this.socket);
    this.closed();
  }

  private closed(): void {
    if (this.state === "closed" && !this.env.connections.has(this)) return;
    this.state = "closed";
    clearTimeout(this.authTimer);
    this.unsent.stop();
    this.env.connections.delete(this);
    const s = this.session;
    this.session = undefined;
    if (s && s.wire === this && s.detach(this.clean)) this.env.sessions.park(s);
  }
}
