/**
 * @xmpp/client's TLS sockets (direct TLS, and STARTTLS, which upgrades
 * through the same class) call tls.connect without CA options. Tests give
 * those sockets, and only those, the test CAs. One patch per process however
 * many helpers ask: stacked patches would each replace the others' CA list.
 */
import { isIP } from "node:net";
import { checkServerIdentity, type PeerCertificate } from "node:tls";
// @ts-ignore -- the TLS socket class @xmpp/starttls and @xmpp/tls use
import TlsSocket from "@xmpp/tls/lib/Socket.js";

type Connect = (this: unknown, opts: Record<string, unknown>, ...rest: unknown[]) => void;

const trusted = new Set<string>();
/** Host (as @xmpp/starttls passes it: the user's domain) -> the name its certificate is checked against instead. */
const renamed = new Map<string, string>();
let patched = false;

/**
 * For a partner server whose certificate deliberately names another domain
 * (an s2s test of that certificate): its users' c2s TLS still verifies the
 * chain and a name, the one the certificate does carry, rather than failing
 * before the test can start.
 */
export function checkCertificateAs(host: string, name: string): void {
  renamed.set(host, name);
}

/**
 * Trusts `caPem` for @xmpp/client connections. A direct TLS service given as
 * an address has no name to check the certificate against: `addressName`
 * (the hosted test domain) is used for SNI and the check.
 */
export function trustTestCa(caPem: string, addressName = "corp.test"): void {
  trusted.add(caPem);
  if (patched) return;
  patched = true;
  const proto = (TlsSocket as { prototype: { connect: Connect } }).prototype;
  const original = proto.connect;
  proto.connect = function (this: unknown, opts: Record<string, unknown>, ...rest: unknown[]) {
    const named = typeof opts.host === "string" && isIP(opts.host) && opts.servername === undefined ? { servername: addressName } : {};
    const as = typeof opts.host === "string" ? renamed.get(opts.host) : undefined;
    const check = as ? { checkServerIdentity: (_host: string, cert: PeerCertificate) => checkServerIdentity(as, cert) } : {};
    return original.call(this, { ...named, ...opts, ...check, ca: [...trusted] }, ...rest);
  };
}
