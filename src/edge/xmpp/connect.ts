/**
 * Reaching one discovered target of a partner (RFC 6120 section 3.2,
 * XEP-0368): a TCP connection, or a TLS one for `_xmpps-server` targets.
 * Going through the targets in order is outbound-failover.ts's job, since a
 * target only counts as working once its stream is authenticated.
 */
import { connect as netConnect, type Socket } from "node:net";
import type { TLSSocket } from "node:tls";
import type { Candidate } from "../dns/resolver.js";
import { clientTls, type ClientTlsOptions } from "./tls.js";
import { SetupTimeout } from "./timeout.js";

export const S2S_SERVICES = ["_xmpps-server._tcp", "_xmpp-server._tcp"];
export const DIRECT_TLS_SERVICE = "_xmpps-server._tcp";
export const FALLBACK_PORT = 5269;

export interface Connected {
  socket: Socket | TLSSocket;
  /** Direct TLS (XEP-0368): the stream starts secure. */
  tls: boolean;
}

export type TargetTlsOptions = Omit<ClientTlsOptions, "socket" | "host" | "port" | "timeoutMs">;

/** How logs and errors name a target: SRV host, the address tried, port. */
export function describeTarget(c: Candidate): string {
  return `${c.host}[${c.address}]:${c.port}`;
}

function tcp(host: string, port: number, timeoutMs: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = netConnect({ host, port });
    const timer = setTimeout(() => {
      s.destroy();
      reject(new SetupTimeout("connect timed out"));
    }, timeoutMs);
    timer.unref();
    s.once("connect", () => {
      clearTimeout(timer);
      s.removeAllListeners("error");
      resolve(s);
    });
    s.once("error", (err) => {
      clearTimeout(timer);
      s.destroy();
      reject(err);
    });
  });
}

export async function connectTarget(c: Candidate, o: TargetTlsOptions, timeoutMs: number): Promise<Connected> {
  if (c.service === DIRECT_TLS_SERVICE) {
    return { socket: await clientTls({ ...o, host: c.address, port: c.port, timeoutMs }), tls: true };
  }
  return { socket: await tcp(c.address, c.port, timeoutMs), tls: false };
}
