/**
 * Server-side secure contexts per certificate, picked by SNI. A context also
 * carries the trust anchors client certificates are checked against, which
 * the certificate store's own contexts lack, so it is built here once per
 * certificate and kept until the trust anchors change.
 */
import { createSecureContext, type SecureContext } from "node:tls";

export interface SniOptions {
  /** The certificate to present for a requested server name (may throw: the handshake then fails). */
  certFor: (servername: string) => { cert: string; key: string };
  /** Trust anchors for client certificates; none when no client certificate is asked for. */
  ca?: (() => string[]) | undefined;
  minVersion: "TLSv1.2" | "TLSv1.3";
}

export type SniCallback = (servername: string, cb: (err: Error | null, ctx?: SecureContext) => void) => void;

export class SniContexts {
  private contexts = new Map<string, SecureContext>();

  constructor(private readonly opts: SniOptions) {}

  /** The context for one certificate, built on first use. */
  contextFor(pair: { cert: string; key: string }): SecureContext {
    let ctx = this.contexts.get(pair.cert);
    if (!ctx) {
      ctx = createSecureContext({ cert: pair.cert, key: pair.key, ca: this.opts.ca?.(), minVersion: this.opts.minVersion });
      this.contexts.set(pair.cert, ctx);
    }
    return ctx;
  }

  /** For tls.Server and server-side TLSSocket: the certificate of the requested name. */
  readonly callback: SniCallback = (servername, cb) => {
    let ctx: SecureContext;
    try {
      ctx = this.contextFor(this.opts.certFor(servername));
    } catch (err) {
      return cb(err as Error);
    }
    cb(null, ctx);
  };

  /** After a reload: certificates or trust anchors may have changed. */
  clear(): void {
    this.contexts = new Map();
  }
}
