/**
 * One XEP-0114 component stream from the edge to an internal XMPP server, for
 * one component domain (a partner's domain): connect, handshake, stanzas both
 * ways, and reconnect with exponential backoff when the stream is lost.
 *
 * Our own client on the shared guarded parser rather than @xmpp/component
 * 0.13.1: that package decodes each TCP chunk separately (a character split
 * across chunks is corrupted; the guarded parser decodes the byte stream),
 * answers every IQ itself with service-unavailable although a gateway forwards
 * them (partners would get a second, wrong reply), reconnects every second
 * forever with no backoff, and has no byte cap per stanza or restricted-XML
 * checks. The protocol is small (XEP-0114 section 3), so owning it costs less
 * than patching around those.
 */
import { EventEmitter } from "node:events";
import { connect as netConnect, type Socket } from "node:net";
import { connect as tlsConnect, type TLSSocket } from "node:tls";
import type { Logger } from "../../log.js";
import { XmppStreamParser, StreamError, componentHeader, handshakeDigest, type Element } from "../../xmpp/index.js";
import { LinkBarrier } from "./barrier.js";

export type LinkState = "connecting" | "online" | "backoff" | "stopped";

export interface LinkOptions {
  log: Logger;
  /** The component domain this stream serves (a partner's domain). */
  domain: string;
  host: string;
  port: number;
  secret: string;
  /** Direct TLS: the trust anchors and the name the server's certificate must carry. */
  tls?: { ca: string[]; servername: string } | undefined;
  maxStanzaBytes: number;
  connectTimeoutMs: number;
  reconnectInitialMs: number;
  reconnectMaxMs: number;
  /** Bytes written but not yet taken by the socket beyond which send() refuses. */
  maxUnsentBytes: number;
  /** A domain the internal server hosts: confirmation pings go to it. */
  serverDomain: string;
}

export interface ComponentLink {
  on(event: "online", fn: () => void): this;
  on(event: "offline", fn: (reason: string) => void): this;
  on(event: "stanza", fn: (el: Element) => void): this;
  /** The stream was lost with stanzas written on it that the server had not confirmed. */
  on(event: "unconfirmed", fn: (count: number) => void): this;
}

export class ComponentLink extends EventEmitter {
  state: LinkState = "stopped";
  /** Why the link is not online, for /readyz and logs. */
  problem: string | undefined = "not started";
  private socket: Socket | undefined;
  private parser: XmppStreamParser | undefined;
  private failures = 0;
  private timer: NodeJS.Timeout | undefined;
  /** A refused secret is logged once per run of refusals, not on every retry. */
  private refusedLogged = false;
  /**
   * Another connection (another edge) holds this component on the internal
   * server, which takes one per domain (Prosody): this link is the standby and
   * retries at the initial delay, without growing it, so it takes over soon
   * after the active edge goes.
   */
  standby = false;
  /** Delivery confirmation on this stream (see confirm()). */
  private readonly barrier = new LinkBarrier(this);

  constructor(readonly opts: LinkOptions) {
    super();
    this.setMaxListeners(0);
  }

  get name(): string {
    return `${this.opts.domain}@${this.opts.host}:${this.opts.port}`;
  }

  start(): void {
    if (this.state !== "stopped") return;
    this.connect();
  }

  /** True when the stanza was handed to the socket; throws when the link cannot take it. */
  send(el: Element): void {
    const s = this.socket;
    if (this.state !== "online" || !s || s.destroyed) throw new Error(`component stream ${this.name} is not online`);
    if (s.writableLength > this.opts.maxUnsentBytes) throw new RangeError(`component stream ${this.name} has ${s.writableLength} bytes unsent`);
    this.corked(s).write(el.toString());
    this.barrier.wrote();
  }

  /**
   * Stanzas written in one turn of the event loop leave as one write (one TLS
   * record, one syscall): a burst from a partner is routed a turn at a time.
   */
  private corked(s: Socket): Socket {
    if (s.writableCorked === 0) {
      s.cork();
      process.nextTick(() => s.uncork());
    }
    return s;
  }

  /**
   * Resolves once the server has processed every stanza written so far: an
   * XEP-0199 ping to its domain goes after them, and a server handles one
   * stream's stanzas in order, so its answer (a result, or an error where
   * pings are not served) comes after they were routed to their recipients.
   * One ping covers every stanza written before it.
   */
  confirm(): Promise<void> {
    return this.barrier.confirm();
  }

  /** Writes a stanza of the link's own (a confirmation ping); false when the stream cannot take it. */
  writeOwn(data: string): boolean {
    const s = this.socket;
    if (this.state !== "online" || !s || s.destroyed) return false;
    this.corked(s).write(data);
    return true;
  }

  /** Back-pressure: stop reading the internal server while its stanzas wait to be routed. */
  pause(): void {
    this.socket?.pause();
  }

  resume(): void {
    if (this.socket?.isPaused()) this.socket.resume();
  }

  /** Resolves true once online, false after timeoutMs or when stopped. */
  waitOnline(timeoutMs: number): Promise<boolean> {
    if (this.state === "online") return Promise.resolve(true);
    if (this.state === "stopped" || timeoutMs <= 0) return Promise.resolve(false);
    return new Promise((resolve) => {
      const done = (ok: boolean) => {
        clearTimeout(t);
        this.off("online", on);
        resolve(ok);
      };
      const on = () => done(true);
      const t = setTimeout(() => done(false), timeoutMs);
      this.once("online", on);
    });
  }

  /** Ends the stream (closing tag first, RFC 6120 section 4.4) and stops reconnecting. */
  async stop(): Promise<void> {
    const was = this.state;
    this.state = "stopped";
    this.problem = "stopped";
    clearTimeout(this.timer);
    const s = this.socket;
    this.socket = undefined;
    this.barrier.lost(false);
    if (!s || s.destroyed) return;
    if (was === "online") s.write("</stream:stream>");
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => s.destroy(), 1_000);
      s.once("close", () => {
        clearTimeout(t);
        resolve();
      });
      s.end();
    });
  }

  /** Gives up on the current connection (it reconnects with backoff). */
  drop(reason: string): void {
    if (this.socket) this.lost(this.socket, reason);
  }

  private connect(): void {
    this.state = "connecting";
    const o = this.opts;
    const socket = o.tls
      ? tlsConnect({ host: o.host, port: o.port, ca: o.tls.ca, servername: o.tls.servername, minVersion: "TLSv1.2" })
      : netConnect({ host: o.host, port: o.port });
    // Stanzas are written whole (and corked per turn): Nagle's algorithm would only hold each one back for the previous one's ACK.
    socket.setNoDelay(true);
    this.socket = socket;
    const parser = new XmppStreamParser({ maxStanzaBytes: o.maxStanzaBytes });
    this.parser = parser;
    const deadline = setTimeout(() => this.lost(socket, `no handshake within ${o.connectTimeoutMs} ms`), o.connectTimeoutMs);
    socket.once(o.tls ? "secureConnect" : "connect", () => socket.write(componentHeader({ to: o.domain })));
    socket.on("data", (chunk: Buffer) => parser.write(chunk));
    socket.on("error", (err) => this.lost(socket, err.message));
    socket.on("close", () => this.lost(socket, "connection closed"));
    parser.on("streamStart", (attrs) => {
      if (!attrs.id) return this.fail(socket, new StreamError("bad-format", "the server's stream header has no id (XEP-0114 section 3)"));
      socket.write(`<handshake>${handshakeDigest(attrs.id, o.secret)}</handshake>`);
    });
    parser.on("stanza", (el) => {
      if (el.name === "stream:error") return this.streamError(socket, StreamError.fromElement(el));
      if (this.state !== "online") {
        if (el.name !== "handshake") return this.fail(socket, new StreamError("not-authorized", "stanza before handshake"));
        clearTimeout(deadline);
        return this.online(socket);
      }
      if (this.barrier.answered(el)) return;
      this.emit("stanza", el);
    });
    parser.on("streamEnd", () => this.lost(socket, "the server closed the stream"));
    parser.on("error", (err) => this.fail(socket, err));
    socket.once("close", () => clearTimeout(deadline));
  }

  private online(socket: Socket): void {
    if (this.socket !== socket) return;
    this.state = "online";
    this.problem = undefined;
    this.failures = 0;
    this.standby = false;
    if (this.refusedLogged) this.opts.log.info({ link: this.name }, "component secret accepted again");
    this.refusedLogged = false;
    const tls = (socket as TLSSocket).getProtocol?.() ?? undefined;
    this.opts.log.info({ link: this.name, tls }, "component stream online");
    this.emit("online");
  }

  private streamError(socket: Socket, err: StreamError): void {
    if (err.condition === "conflict" && this.state !== "online") {
      if (!this.standby) this.opts.log.info({ link: this.name }, "component held by another connection; standing by");
      this.standby = true;
      return this.lost(socket, "standby: another connection holds this component");
    }
    if (err.condition === "not-authorized" && this.state !== "online") {
      // XEP-0114 section 3: a wrong secret is answered with not-authorized. Retrying cannot fix
      // it, but the operator may fix either side's config, so back off and say so once.
      if (!this.refusedLogged) {
        this.opts.log.error({ link: this.name }, "internal server refused the component secret (not-authorized); check edge.internal[].secret against the server's component secret; retrying with backoff");
      }
      this.refusedLogged = true;
    }
    this.lost(socket, `stream error ${err.condition}${err.text ? `: ${err.text}` : ""}`);
  }

  /** Our stream error to the server, then the connection is dropped. */
  private fail(socket: Socket, err: StreamError): void {
    if (this.socket === socket && !socket.destroyed) socket.end(`${err.toXml()}</stream:stream>`);
    this.lost(socket, `stream error sent: ${err.condition}`);
  }

  private lost(socket: Socket, reason: string): void {
    if (this.socket !== socket) return;
    this.socket = undefined;
    this.parser?.removeAllListeners();
    socket.destroy();
    this.barrier.lost();
    if (this.state === "stopped") return;
    const wasOnline = this.state === "online";
    this.failures++;
    if (!reason.startsWith("standby")) this.standby = false;
    const growth = this.standby ? 1 : 2 ** Math.min(this.failures - 1, 20);
    const base = Math.min(this.opts.reconnectMaxMs, this.opts.reconnectInitialMs * growth);
    // Jitter spreads the reconnects of many links (and of two edges) after an internal server restarts.
    const delay = Math.round(base * (0.5 + Math.random() * 0.5));
    this.state = "backoff";
    this.problem = reason;
    if (wasOnline || !(this.refusedLogged || this.standby)) this.opts.log.warn({ link: this.name, reason, retryInMs: delay }, wasOnline ? "component stream lost" : "component stream not established");
    if (wasOnline) this.emit("offline", reason);
    this.timer = setTimeout(() => this.state === "backoff" && this.connect(), delay);
  }
}
