/**
 * The suite's raw XMPP peer, for s2s and c2s protocol tests alike: writes
 * exactly the bytes a test gives it (bad ones included), keeps the text the
 * server sends back and the top-level elements in it, and can upgrade to TLS
 * (STARTTLS or direct) with a client certificate. What the server sends is
 * parsed by @xmpp/xml, never by the product's own stream parser, so a parser
 * bug cannot hide itself. Transcripts come with every failure.
 */
import { connect as netConnect, type Socket } from "node:net";
import { connect as tlsConnect, TLSSocket, type ConnectionOptions, type SecureVersion } from "node:tls";
import { StringDecoder } from "node:string_decoder";
import { Changes } from "./wait.js";
import { StreamReader, type Element } from "./xml.js";

export const NS_HEADER = "xmlns='jabber:server' xmlns:stream='http://etherx.jabber.org/streams' xmlns:db='jabber:server:dialback'";

/** An s2s stream header. */
export function header(from: string | undefined, to: string): string {
  return `<?xml version='1.0'?><stream:stream ${NS_HEADER} version='1.0'${from ? ` from='${from}'` : ""} to='${to}'>`;
}

/** A c2s stream header. */
export function c2sHeader(to = "corp.test"): string {
  return `<?xml version='1.0'?><stream:stream to='${to}' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>`;
}

export type TlsOpts = {
  ca: string | string[];
  cert?: string;
  key?: string;
  /** "" sends no SNI (the host is an address). */
  servername: string;
  minVersion?: SecureVersion;
  maxVersion?: SecureVersion;
  ciphers?: string;
  /** Replaces Node's host name check, so a test can look at a certificate that does not name what it asked for. */
  checkServerIdentity?: ConnectionOptions["checkServerIdentity"];
  /** ALPN offered; s2s ("xmpp-server") unless given, none with []. */
  alpn?: string[];
};

const MAX_TEXT = 1_000_000;
const MAX_ELEMENTS = 10_000;

function tlsOptions(tls: TlsOpts): ConnectionOptions {
  const { alpn, ...rest } = tls;
  const protocols = alpn ?? ["xmpp-server"];
  return { ...rest, ...(protocols.length ? { ALPNProtocols: protocols } : {}) };
}

export class RawPeer {
  /** What the server sent since the stream (or TLS) began; a test may clear it. */
  text = "";
  closed = false;
  /** Top-level elements of the current stream, in order. */
  readonly elements: Element[] = [];
  private socket_: Socket | TLSSocket;
  private reader!: StreamReader;
  private decoder = new StringDecoder("utf8");
  private readonly changes = new Changes();

  private constructor(socket: Socket) {
    this.socket_ = socket;
    this.newStream();
    this.listen(socket);
  }

  private newStream(): void {
    this.reader = new StreamReader((el) => {
      if (this.elements.length < MAX_ELEMENTS) this.elements.push(el);
    });
  }

  private listen(s: Socket): void {
    s.on("data", (c: Buffer) => {
      const t = this.decoder.write(c);
      if (this.text.length < MAX_TEXT) this.text += t;
      this.reader.write(t);
      this.changes.notify();
    });
    s.on("close", () => {
      this.closed = true;
      this.changes.notify();
    });
    s.on("error", () => undefined);
  }

  static connect(host: string, port: number): Promise<RawPeer> {
    return new Promise((resolve, reject) => {
      const s = netConnect({ host, port });
      s.once("connect", () => resolve(new RawPeer(s)));
      s.once("error", reject);
    });
  }

  static connectTls(host: string, port: number, tls: TlsOpts): Promise<RawPeer> {
    return new Promise((resolve, reject) => {
      const s = tlsConnect({ host, port, ...tlsOptions(tls) });
      s.once("secureConnect", () => resolve(new RawPeer(s)));
      s.once("error", reject);
    });
  }

  /** The socket as it is now (the TLS one after STARTTLS). */
  get socket(): Socket | TLSSocket {
    return this.socket_;
  }

  /** Writes; false when the server had already closed (EPIPE is expected after a stream error). */
  write(data: string | Buffer): Promise<boolean> {
    return new Promise((resolve) => {
      if (this.socket_.destroyed || !this.socket_.writable) return resolve(false);
      this.socket_.write(data, (err) => resolve(!err));
    });
  }

  /** Waits until the received text matches; returns the text. */
  expect(re: RegExp, timeoutMs = 5_000): Promise<string> {
    return this.changes.until(() => re.test(this.text) && this.text, timeoutMs, () => `expected ${re}; transcript:\n${this.text}`);
  }

  /** Waits for a top-level element of the current stream that matches. */
  waitFor(match: (el: Element) => boolean, timeoutMs = 5_000): Promise<Element> {
    return this.changes.until(() => this.elements.find(match), timeoutMs, () => `no matching element; transcript:\n${this.text.slice(-2000)}`);
  }

  waitClosed(timeoutMs = 5_000): Promise<void> {
    return this.changes.until(() => this.closed, timeoutMs, () => `connection still open; transcript:\n${this.text}`).then(() => undefined);
  }

  /** STARTTLS (RFC 6120 section 5.4.2) then TLS with an optional client certificate. */
  async starttls(tls: TlsOpts): Promise<void> {
    await this.write("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
    await this.expect(/<proceed/);
    this.text = "";
    this.elements.length = 0;
    this.newStream();
    const raw = this.socket_ as Socket;
    raw.removeAllListeners("data");
    this.socket_ = await new Promise<TLSSocket>((resolve, reject) => {
      const s = tlsConnect({ socket: raw, ...tlsOptions(tls) });
      s.once("secureConnect", () => resolve(s));
      s.once("error", reject);
    });
    this.listen(this.socket_);
  }

  /** A new stream on the same connection (after SASL): forgets the old stream's elements and opens with `open`. */
  restart(open = c2sHeader()): void {
    this.elements.length = 0;
    this.newStream();
    void this.write(open);
  }

  /** c2s: opens a stream, authenticates with PLAIN, restarts and, given a resource, binds it. */
  async login(user: string, password: string, resource: string): Promise<void> {
    const features = (e: Element) => e.name === "stream:features" || e.name === "features";
    await this.write(c2sHeader());
    await this.waitFor(features);
    await this.write(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${Buffer.from(`\0${user}\0${password}`).toString("base64")}</auth>`);
    await this.waitFor((e) => e.name === "success");
    this.restart();
    await this.waitFor(features);
    if (resource) {
      await this.write(`<iq type='set' id='b1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>${resource}</resource></bind></iq>`);
      await this.waitFor((e) => e.name === "iq" && e.attrs.id === "b1");
    }
  }

  /** The TLS side once TLS is up (direct or after STARTTLS): the server's certificate, chain verdict, protocol. */
  get tls(): TLSSocket | undefined {
    return this.socket_ instanceof TLSSocket ? this.socket_ : undefined;
  }

  /** The stream error condition the server sent, if any. */
  streamError(): string | undefined {
    return /<stream:error><([a-z-]+) xmlns='urn:ietf:params:xml:ns:xmpp-streams'/.exec(this.text)?.[1];
  }

  destroy(): void {
    this.socket_.destroy();
  }
}
