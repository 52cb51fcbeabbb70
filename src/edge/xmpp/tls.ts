/**
 * TLS for s2s (RFC 6120 section 5, XEP-0368): the server side (STARTTLS and
 * direct TLS, src/xmpp/tls.ts) with a client certificate requested from every
 * peer (XEP-0178), and the client side for outbound streams presenting our
 * domain's certificate.
 */
import { connect as tlsConnect, type TLSSocket, type TlsOptions } from "node:tls";
import type { Socket } from "node:net";
import { ServerTls } from "../../xmpp/tls.js";
import type { CertStore } from "../../tls/store.js";
import type { TrustStore } from "../../tls/trust.js";
import { SetupTimeout } from "./timeout.js";

export const ALPN_S2S = "xmpp-server";

/** s2s's server side: a client certificate asked of every peer (XEP-0178), judged against the current trust anchors. */
export class TlsAcceptor {
  private readonly tls: ServerTls;

  constructor(
    certs: CertStore,
    private trust: TrustStore,
    minVersion: "TLSv1.2" | "TLSv1.3",
  ) {
    this.tls = new ServerTls({ certs, minVersion, clientCerts: { ca: () => this.trust.ca }, alpn: [ALPN_S2S] });
  }

  /** Options for a listening direct-TLS server; the same policy as STARTTLS. */
  serverOptions(): TlsOptions {
    return this.tls.serverOptions();
  }

  setTrust(trust: TrustStore): void {
    this.trust = trust;
    this.tls.reset();
  }

  upgrade(raw: Socket, timeoutMs: number): Promise<TLSSocket> {
    return this.tls.upgrade(raw, timeoutMs);
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
