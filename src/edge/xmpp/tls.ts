/**
 * TLS for s2s (RFC 6120 section 5, XEP-0368): server-side STARTTLS and direct
 * TLS with the certificate of the requested hosted domain (SNI), a client
 * certificate requested from every peer (XEP-0178), and the client side for
 * outbound streams presenting our domain's certificate.
 *
 * Node's TLSSocket built by hand never sets `authorized`, so STARTTLS hands
 * the plain socket to a tls.Server that never listens and reads the result
 * in its secureConnection event.
 */
import { connect as tlsConnect, createSecureContext, createServer, type SecureContext, type Server as TlsServer, type TLSSocket, type TlsOptions } from "node:tls";
import type { Socket } from "node:net";
import type { CertStore } from "../../tls/store.js";
import type { TrustStore } from "../../tls/trust.js";
import { SetupTimeout } from "./timeout.js";

export const ALPN_S2S = "xmpp-server";

type Pending = { resolve: (s: TLSSocket) => void; reject: (e: Error) => void };

function keyOf(s: Socket): string {
  return `${s.remoteAddress}|${s.remotePort}|${s.localAddress}|${s.localPort}`;
}

export class TlsAcceptor {
  private server: TlsServer;
  private readonly pending = new Map<string, Pending>();
  /** Per certificate, a context that also carries the CAs client certificates are checked against. */
  private contexts = new Map<string, SecureContext>();

  constructor(
    private readonly certs: CertStore,
    private trust: TrustStore,
    private readonly minVersion: "TLSv1.2" | "TLSv1.3",
  ) {
    this.server = this.build();
  }

  /** Options for a listening direct-TLS server; the same policy as STARTTLS. */
  serverOptions(): TlsOptions {
    return {
      SNICallback: this.sni,
      // tls.Server ignores a `secureContext` option: without SNI the default certificate comes from these.
      cert: this.certs.defaultCert.cert,
      key: this.certs.defaultCert.key,
      requestCert: true,
      // The chain is judged per partner after the handshake (pins, dialback fallback).
      rejectUnauthorized: false,
      ca: this.trust.ca,
      minVersion: this.minVersion,
      ALPNProtocols: [ALPN_S2S],
    };
  }

  /** SNI picks the certificate of the requested hosted domain; the store's own contexts lack our CA list. */
  private sni = (servername: string, cb: (err: Error | null, ctx?: SecureContext) => void): void => {
    cb(null, this.contextFor(this.certs.forDomain(servername) ?? this.certs.defaultCert));
  };

  private contextFor(c: { certPath: string; cert: string; key: string }): SecureContext {
    let ctx = this.contexts.get(c.certPath);
    if (!ctx) {
      ctx = createSecureContext({ cert: c.cert, key: c.key, ca: this.trust.ca, minVersion: this.minVersion });
      this.contexts.set(c.certPath, ctx);
    }
    return ctx;
  }

  setTrust(trust: TrustStore): void {
    this.trust = trust;
    this.contexts = new Map();
    this.server = this.build();
  }

  private build(): TlsServer {
    const server = createServer(this.serverOptions());
    server.on("secureConnection", (s: TLSSocket) => {
      const p = this.pending.get(keyOf(s));
      if (!p) return void s.destroy();
      this.pending.delete(keyOf(s));
      p.resolve(s);
    });
    server.on("tlsClientError", (err: Error, s: TLSSocket) => {
      const p = this.pending.get(keyOf(s));
      if (!p) return;
      this.pending.delete(keyOf(s));
      p.reject(err);
    });
    return server;
  }

  /** RFC 6120 section 5.4.3.3: the handshake on the existing connection after <proceed/>. */
  upgrade(raw: Socket, timeoutMs: number): Promise<TLSSocket> {
    const key = keyOf(raw);
    return new Promise<TLSSocket>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(key);
        raw.destroy();
        reject(new Error("TLS handshake timed out"));
      }, timeoutMs);
      timer.unref();
      this.pending.set(key, {
        resolve: (s) => {
          clearTimeout(timer);
          resolve(s);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.server.emit("connection", raw);
    });
  }
}

export interface ClientTlsOptions {
  certs: CertStore;
  trust: TrustStore;
  localDomain: string;
  remoteDomain: string;
  minVersion: "TLSv1.2" | "TLSv1.3";
  timeoutMs: number;
  /** Wrap this connected socket (STARTTLS); otherwise connect to host:port (direct TLS). */
  socket?: Socket;
  host?: string;
  port?: number;
}

/** Outbound TLS: SNI is the partner's domain (XEP-0368 section 3), our certificate goes as the client certificate. */
export function clientTls(o: ClientTlsOptions): Promise<TLSSocket> {
  const own = o.certs.forDomain(o.localDomain) ?? o.certs.defaultCert;
  return new Promise<TLSSocket>((resolve, reject) => {
    const s = tlsConnect({
      ...(o.socket ? { socket: o.socket } : { host: o.host, port: o.port }),
      servername: o.remoteDomain,
      cert: own.cert,
      key: own.key,
      ca: o.trust.ca,
      rejectUnauthorized: false,
      // Node's host name check knows DNS-IDs only; RFC 6125 / XEP-0178 (SRV-ID, XmppAddr) is applied after the handshake.
      checkServerIdentity: () => undefined,
      minVersion: o.minVersion,
      ALPNProtocols: [ALPN_S2S],
    });
    const timer = setTimeout(() => {
      s.destroy();
      reject(new SetupTimeout("TLS handshake timed out"));
    }, o.timeoutMs);
    timer.unref();
    s.once("secureConnect", () => {
      clearTimeout(timer);
      s.removeListener("error", onError);
      resolve(s);
    });
    const onError = (err: Error) => {
      clearTimeout(timer);
      // The caller moves on to the next target; nothing of this one may stay open.
      s.destroy();
      reject(err);
    };
    s.once("error", onError);
  });
}
