/**
 * The server side of TLS for every XMPP listener (RFC 6120 section 5,
 * XEP-0368): the certificate of the requested hosted domain (SNI), the
 * options of a direct-TLS listener, and the STARTTLS upgrade of a connected
 * socket after <proceed/>.
 *
 * A TLSSocket built by hand never sets `authorized`, so where client
 * certificates are asked for (s2s, XEP-0178) the upgrade hands the plain
 * socket to a tls.Server that never listens and takes the result from its
 * secureConnection event. Where they are not (c2s), the upgrade is one
 * TLSSocket on the cached contexts: a server per upgrade would build a
 * secure context per client and keep it for the connection's life.
 */
import { createServer, TLSSocket, type Server as TlsServer, type TlsOptions } from "node:tls";
import type { Socket } from "node:net";
import type { CertStore } from "../tls/store.js";
import { SniContexts } from "../tls/sni.js";

export interface ServerTlsOptions {
  certs: CertStore;
  minVersion: "TLSv1.2" | "TLSv1.3";
  /** Ask every peer for a certificate; its chain is judged after the handshake against these anchors. */
  clientCerts?: { ca: () => string[] } | undefined;
  alpn?: string[] | undefined;
  /** Time limit of a direct-TLS listener's handshakes (Node's default otherwise). */
  handshakeTimeoutMs?: number | undefined;
}

type Pending = { resolve: (s: TLSSocket) => void; reject: (e: Error) => void };

function keyOf(s: Socket): string {
  return `${s.remoteAddress}|${s.remotePort}|${s.localAddress}|${s.localPort}`;
}

export class ServerTls {
  private readonly sni: SniContexts;
  private hidden: TlsServer | undefined;
  private readonly pending = new Map<string, Pending>();

  constructor(private readonly o: ServerTlsOptions) {
    this.sni = new SniContexts({ certFor: (n) => o.certs.forDomain(n) ?? o.certs.defaultCert, ca: o.clientCerts?.ca, minVersion: o.minVersion });
    this.hidden = o.clientCerts ? this.buildHidden() : undefined;
  }

  /** Options for a listening direct-TLS server; the same policy as STARTTLS. */
  serverOptions(): TlsOptions {
    const def = this.o.certs.defaultCert;
    const opts: TlsOptions = {
      SNICallback: this.sni.callback,
      // tls.Server ignores a `secureContext` option: without SNI the default certificate comes from these.
      cert: def.cert,
      key: def.key,
      minVersion: this.o.minVersion,
    };
    if (this.o.clientCerts) {
      opts.requestCert = true;
      // The chain is judged per peer after the handshake (pins, dialback fallback).
      opts.rejectUnauthorized = false;
      opts.ca = this.o.clientCerts.ca();
    }
    if (this.o.alpn) opts.ALPNProtocols = this.o.alpn;
    if (this.o.handshakeTimeoutMs) opts.handshakeTimeout = this.o.handshakeTimeoutMs;
    return opts;
  }

  /** After the trust anchors or certificates changed: contexts are rebuilt on next use. */
  reset(): void {
    this.sni.clear();
    if (this.hidden) this.hidden = this.buildHidden();
  }

  /** RFC 6120 section 5.4.3.3: the handshake on the existing connection after <proceed/>. */
  upgrade(raw: Socket, timeoutMs: number): Promise<TLSSocket> {
    return this.hidden ? this.upgradeVerified(this.hidden, raw, timeoutMs) : this.upgradeBare(raw, timeoutMs);
  }

  private upgradeBare(raw: Socket, timeoutMs: number): Promise<TLSSocket> {
    const def = this.sni.contextFor(this.o.certs.defaultCert);
    return new Promise<TLSSocket>((resolve, reject) => {
      const tls = new TLSSocket(raw, { isServer: true, secureContext: def, SNICallback: this.sni.callback });
      const timer = setTimeout(() => fail(new Error("TLS handshake timed out")), timeoutMs);
      function fail(err: Error) {
        clearTimeout(timer);
        tls.destroy();
        reject(err);
      }
      tls.once("secure", () => {
        clearTimeout(timer);
        tls.off("error", fail);
        resolve(tls);
      });
      tls.once("error", fail);
    });
  }

  private upgradeVerified(server: TlsServer, raw: Socket, timeoutMs: number): Promise<TLSSocket> {
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
      server.emit("connection", raw);
    });
  }

  private buildHidden(): TlsServer {
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
}
