/**
 * Reaching a partner (RFC 6120 section 3.2, XEP-0368): SRV discovery for
 * direct TLS and STARTTLS, RFC 2782 ordering, the domain's own addresses on
 * 5269 when it publishes no SRV, and the next target when one fails.
 */
import { connect as netConnect, type Socket } from "node:net";
import type { TLSSocket } from "node:tls";
import { discover, type Candidate, type Resolver } from "../dns/resolver.js";
import { clientTls, type ClientTlsOptions } from "./tls.js";

export const S2S_SERVICES = ["_xmpps-server._tcp", "_xmpp-server._tcp"];
export const DIRECT_TLS_SERVICE = "_xmpps-server._tcp";

export interface Connected {
  socket: Socket | TLSSocket;
  /** Direct TLS (XEP-0368): the stream starts secure. */
  tls: boolean;
  candidate: Candidate;
}

export interface ConnectOptions extends Omit<ClientTlsOptions, "socket" | "host" | "port"> {
  resolver: Resolver;
  log: { debug(o: object, m: string): void; info(o: object, m: string): void };
}

export class UnreachableError extends Error {
  constructor(
    readonly domain: string,
    readonly attempts: string[],
    readonly timedOut: boolean,
  ) {
    super(attempts.length ? `${domain} unreachable: ${attempts.join("; ")}` : `${domain}: no address found`);
  }
}

function tcp(host: string, port: number, timeoutMs: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = netConnect({ host, port });
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error("connect timed out"));
    }, timeoutMs);
    timer.unref();
    s.once("connect", () => {
      clearTimeout(timer);
      s.removeAllListeners("error");
      resolve(s);
    });
    s.once("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

/** Tries the candidates in order; the first that accepts a connection (and a TLS handshake, for direct TLS) wins. */
export async function connectToDomain(o: ConnectOptions): Promise<Connected> {
  const candidates = await discover(o.resolver, o.remoteDomain, S2S_SERVICES, 5269);
  const attempts: string[] = [];
  let timedOut = false;
  for (const c of candidates) {
    const where = `${c.host}[${c.address}]:${c.port}`;
    try {
      if (c.service === DIRECT_TLS_SERVICE) {
        const socket = await clientTls({ ...o, host: c.address, port: c.port });
        return { socket, tls: true, candidate: c };
      }
      const socket = await tcp(c.address, c.port, o.timeoutMs);
      return { socket, tls: false, candidate: c };
    } catch (err) {
      const msg = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
      if (/timed out/.test((err as Error).message)) timedOut = true;
      attempts.push(`${where} ${msg}`);
      o.log.info({ domain: o.remoteDomain, target: where, err: msg }, "s2s connect failed; trying the next target");
    }
  }
  throw new UnreachableError(o.remoteDomain, attempts, timedOut);
}
