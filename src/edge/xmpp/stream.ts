/**
 * One XMPP s2s stream over a socket (RFC 6120 section 4): the parser, the
 * stream header, writing, and ending the stream with an error. The socket can
 * be swapped for its TLS form (STARTTLS), after which the stream restarts.
 */
import { EventEmitter } from "node:events";
import type { Socket } from "node:net";
import type { TLSSocket } from "node:tls";
import { X509Certificate } from "node:crypto";
import type { Logger } from "../../log.js";
import type { StreamError } from "../../xmpp/errors.js";
import { XmppStreamParser } from "../../xmpp/stream-parser.js";
import { serialize, type Element } from "../../xmpp/xml.js";
import { batchedWrite, flushNow } from "../../xmpp/write-batch.js";
import { endSocket, newStreamId, STREAM_CLOSE, streamHeader } from "../../xmpp/stream-header.js";
import { NS_DIALBACK, NS_SERVER } from "../../xmpp/ns.js";

export interface StreamOptions {
  log: Logger;
  maxStanzaBytes: number;
}

export class XmppStream extends EventEmitter {
  socket: Socket;
  readonly parser: XmppStreamParser;
  /** Header sent since the last (re)start. */
  headerSent = false;
  closed = false;
  secure = false;
  readonly remoteAddress: string;
  protected readonly log: Logger;
  private onData = (chunk: Buffer) => this.parser.write(chunk);
  private onSocketError = (err: Error) => {
    this.log.debug({ err: err.message }, "s2s socket error");
  };
  private onSocketClose = () => this.finish();

  constructor(socket: Socket, opts: StreamOptions) {
    super();
    this.socket = socket;
    this.log = opts.log;
    this.remoteAddress = socket.remoteAddress ?? "unknown";
    this.parser = new XmppStreamParser({ maxStanzaBytes: opts.maxStanzaBytes });
    this.parser.on("error", (err: StreamError) => this.fail(err));
    this.attach(socket);
  }

  protected attach(socket: Socket): void {
    this.socket = socket;
    socket.on("data", this.onData);
    socket.on("error", this.onSocketError);
    socket.on("close", this.onSocketClose);
  }

  /** Stops reading from the plain socket before it is wrapped in TLS. */
  protected detach(): Socket {
    const s = this.socket;
    s.off("data", this.onData);
    s.off("error", this.onSocketError);
    s.off("close", this.onSocketClose);
    return s;
  }

  /** RFC 6120 section 4.7: our side of the stream header. */
  sendHeader(attrs: { from?: string | undefined; to?: string | undefined; id?: string | undefined }): void {
    this.write(streamHeader(NS_SERVER, { "xmlns:db": NS_DIALBACK, version: "1.0", ...attrs }));
    this.headerSent = true;
  }

  /** Writes at once, after anything batched for this socket (see batch()). */
  write(data: string | Element): void {
    if (this.closed || this.socket.destroyed) return;
    flushNow(this.socket);
    this.socket.write(typeof data === "string" ? data : serialize(data));
  }

  /**
   * Writes a stanza with everything else this socket is sent in this round
   * of the event loop (one TLS record and syscall for a burst). Only for
   * stanzas on an established stream: negotiation steps go out at once.
   */
  protected batch(el: Element): void {
    if (this.closed || this.socket.destroyed) return;
    batchedWrite(this.socket, serialize(el));
  }

  /**
   * RFC 6120 section 4.9.1.1: a stream error, then the closing tag, then the
   * connection ends. Before our header went out, the header comes first.
   */
  fail(err: StreamError, headerAttrs: { from?: string | undefined; to?: string | undefined } = {}): void {
    if (this.closed) return;
    this.log.info({ condition: err.condition, text: err.text, remote: this.remoteAddress }, "s2s stream error");
    this.emit("streamError", err);
    if (!this.headerSent) this.sendHeader({ ...headerAttrs, id: newStreamId() });
    this.write(err.toXml());
    this.end();
  }

  /** RFC 6120 section 4.4: closing tag, then wait briefly for the peer's before dropping the connection. */
  end(): void {
    if (this.closed) return;
    this.write(STREAM_CLOSE);
    this.closed = true;
    endSocket(this.socket);
    this.finish();
  }

  private finished = false;
  protected finish(): void {
    this.closed = true;
    if (this.finished) return;
    this.finished = true;
    this.emit("closed");
  }

  destroy(): void {
    this.closed = true;
    this.socket.destroy();
    this.finish();
  }

  private peerCert: X509Certificate | undefined;

  /**
   * The peer's certificate on a TLS stream, as an X509Certificate. Kept from
   * the first time it is read: later in the stream's life (after the SASL
   * restart) Node's socket was seen to answer with none.
   */
  peerCertificate(): X509Certificate | undefined {
    const s = this.socket as TLSSocket;
    if (!this.secure || typeof s.getPeerX509Certificate !== "function") return undefined;
    this.peerCert ??= s.getPeerX509Certificate() ?? undefined;
    return this.peerCert;
  }

  tlsVersion(): string | undefined {
    const s = this.socket as TLSSocket;
    return this.secure && typeof s.getProtocol === "function" ? (s.getProtocol() ?? undefined) : undefined;
  }
}
