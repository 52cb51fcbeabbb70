/**
 * The accepting side of one XEP-0114 component stream (mode: core): an edge
 * connects, names the component domain it wants (a partner's domain), proves
 * the shared secret with the handshake, and then carries that partner's
 * stanzas. XEP-0114 section 3: the server's header carries the stream id the
 * handshake digest is made from; a wrong digest is answered with not-authorized.
 */
import { EventEmitter } from "node:events";
import type { Socket } from "node:net";
import type { TLSSocket } from "node:tls";
import type { Logger } from "../../log.js";
import { XmppStreamParser, StreamError, componentHeader, handshakeMatches, newStreamId, type Element } from "../../xmpp/index.js";

export interface AcceptEnv {
  log: Logger;
  secret: string;
  maxStanzaBytes: number;
  handshakeTimeoutMs: number;
  /** Whether a component domain may be served (a configured partner, not a hosted domain). */
  allowed(domain: string): boolean;
  /** Claims the domain for this session; false when another edge holds it (it stays the standby). */
  claim(domain: string, session: ComponentSession): boolean;
}

export interface ComponentSession {
  on(event: "stanza", fn: (el: Element) => void): this;
  on(event: "closed", fn: () => void): this;
}

export class ComponentSession extends EventEmitter {
  domain = "";
  online = false;
  closed = false;
  private readonly id = newStreamId();
  private readonly parser: XmppStreamParser;
  private headerSent = false;
  private readonly timer: NodeJS.Timeout;

  constructor(
    readonly socket: Socket,
    private readonly env: AcceptEnv,
  ) {
    super();
    this.parser = new XmppStreamParser({ maxStanzaBytes: env.maxStanzaBytes });
    this.timer = setTimeout(() => this.fail(new StreamError("connection-timeout", "no handshake in time")), env.handshakeTimeoutMs);
    socket.on("data", (c: Buffer) => this.parser.write(c));
    socket.on("error", (err) => env.log.debug({ err: err.message }, "component socket error"));
    socket.on("close", () => this.finish());
    this.parser.on("error", (err) => this.fail(err));
    this.parser.on("streamEnd", () => this.end());
    this.parser.on("streamStart", (attrs) => this.onHeader(attrs));
    this.parser.on("stanza", (el) => this.onElement(el));
  }

  get remoteAddress(): string {
    return this.socket.remoteAddress ?? "unknown";
  }

  tlsVersion(): string | undefined {
    return (this.socket as TLSSocket).getProtocol?.() ?? undefined;
  }

  write(el: Element): void {
    if (!this.online || this.socket.destroyed) throw new Error(`component stream for ${this.domain} is closed`);
    this.socket.write(el.toString());
  }

  private onHeader(attrs: Record<string, string>): void {
    const domain = (attrs.to ?? "").toLowerCase();
    this.socket.write(componentHeader({ from: domain || undefined, id: this.id }));
    this.headerSent = true;
    if (!domain || !this.env.allowed(domain)) return this.fail(new StreamError("host-unknown", `no component ${domain || "(none)"} is served here`));
    this.domain = domain;
  }

  private onElement(el: Element): void {
    if (this.online) return void this.emit("stanza", el);
    if (el.name !== "handshake" || !this.domain) return this.fail(new StreamError("not-authorized", "handshake first"));
    if (!handshakeMatches(el.getText(), this.id, this.env.secret)) {
      this.env.log.warn({ domain: this.domain, remote: this.remoteAddress }, "component handshake refused: wrong secret");
      return this.fail(new StreamError("not-authorized"));
    }
    // Where only one stream per domain is taken (as Prosody does), a second edge waits as the standby.
    if (!this.env.claim(this.domain, this)) return this.fail(new StreamError("conflict", `${this.domain} is served by another connection`));
    clearTimeout(this.timer);
    this.online = true;
    this.socket.write("<handshake/>");
    this.env.log.info({ domain: this.domain, remote: this.remoteAddress, tls: this.tlsVersion() }, "edge component stream online");
  }

  fail(err: StreamError): void {
    if (this.closed) return;
    if (!this.headerSent) this.socket.write(componentHeader({ id: this.id }));
    this.socket.end(`${err.toXml()}</stream:stream>`);
    this.finish();
  }

  end(): void {
    if (this.closed) return;
    this.socket.end("</stream:stream>");
    this.finish();
  }

  private finish(): void {
    if (this.closed) return;
    this.closed = true;
    this.online = false;
    clearTimeout(this.timer);
    setTimeout(() => this.socket.destroy(), 2_000).unref();
    this.emit("closed");
  }
}
