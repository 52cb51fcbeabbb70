/**
 * A raw XMPP s2s peer for protocol tests: writes exactly the bytes a test
 * gives it (bad ones included), reads the text the server sends back, and can
 * upgrade to TLS with a client certificate. Readable transcripts on failure.
 */
import { connect as netConnect, type Socket } from "node:net";
import { connect as tlsConnect, TLSSocket, type ConnectionOptions, type SecureVersion } from "node:tls";

export const NS_HEADER = "xmlns='jabber:server' xmlns:stream='http://etherx.jabber.org/streams' xmlns:db='jabber:server:dialback'";

export function header(from: string | undefined, to: string): string {
  return `<?xml version='1.0'?><stream:stream ${NS_HEADER} version='1.0'${from ? ` from='${from}'` : ""} to='${to}'>`;
}

type TlsOpts = {
  ca: string;
  cert?: string;
  key?: string;
  /** "" sends no SNI (the host is an address). */
  servername: string;
  minVersion?: SecureVersion;
  maxVersion?: SecureVersion;
  ciphers?: string;
  /** Replaces Node's host name check, so a test can look at a certificate that does not name what it asked for. */
  checkServerIdentity?: ConnectionOptions["checkServerIdentity"];
};

export class RawPeer {
  text = "";
  closed = false;
  private socket: Socket | TLSSocket;

  private constructor(socket: Socket) {
    this.socket = socket;
    this.listen(socket);
  }

  private listen(s: Socket): void {
    s.on("data", (c: Buffer) => {
      if (this.text.length < 1_000_000) this.text += c.toString("utf8");
    });
    s.on("close", () => (this.closed = true));
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
      const s = tlsConnect({ host, port, ...tls, ALPNProtocols: ["xmpp-server"] });
      s.once("secureConnect", () => resolve(new RawPeer(s)));
      s.once("error", reject);
    });
  }

  /** Writes; false when the server had already closed (EPIPE is expected after a stream error). */
  write(data: string | Buffer): Promise<boolean> {
    return new Promise((resolve) => {
      if (this.socket.destroyed || !this.socket.writable) return resolve(false);
      this.socket.write(data, (err) => resolve(!err));
    });
  }

  /** Waits until the received text matches; returns the text. */
  async expect(re: RegExp, timeoutMs = 5_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (re.test(this.text)) return this.text;
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error(`expected ${re} within ${timeoutMs} ms; transcript:\n${this.text}`);
  }

  async waitClosed(timeoutMs = 5_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline && !this.closed) await new Promise((r) => setTimeout(r, 10));
    if (!this.closed) throw new Error(`connection still open after ${timeoutMs} ms; transcript:\n${this.text}`);
  }

  /** STARTTLS (RFC 6120 section 5.4.2) then TLS with an optional client certificate. */
  async starttls(tls: TlsOpts): Promise<void> {
    await this.write("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
    await this.expect(/<proceed/);
    this.text = "";
    const raw = this.socket as Socket;
    raw.removeAllListeners("data");
    this.socket = await new Promise<TLSSocket>((resolve, reject) => {
      const s = tlsConnect({ socket: raw, ...tls, ALPNProtocols: ["xmpp-server"] });
      s.once("secureConnect", () => resolve(s));
      s.once("error", reject);
    });
    this.listen(this.socket);
  }

  /** The TLS side once TLS is up (direct or after STARTTLS): the server's certificate, chain verdict, protocol. */
  get tls(): TLSSocket | undefined {
    return this.socket instanceof TLSSocket ? this.socket : undefined;
  }

  /** The stream error condition the server sent, if any. */
  streamError(): string | undefined {
    return /<stream:error><([a-z-]+) xmlns='urn:ietf:params:xml:ns:xmpp-streams'/.exec(this.text)?.[1];
  }

  destroy(): void {
    this.socket.destroy();
  }
}
