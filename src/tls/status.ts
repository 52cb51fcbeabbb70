/**
 * What each installed certificate covers and how long it has left; shared by
 * `demarc certs status`, `certs install` and the gateway's readiness checks.
 */
import type { X509Certificate } from "node:crypto";
import { commonName, matchDnsId } from "./peer.js";
import { dnsNames } from "./store.js";

export interface CertStatus {
  path: string;
  subject: string;
  issuer: string;
  selfSigned: boolean;
  notAfter: Date;
  daysLeft: number;
  expired: boolean;
  notYetValid: boolean;
  expiringSoon: boolean;
  /** DNS names in the certificate. */
  names: string[];
  /** Hosted names it covers. */
  covers: string[];
}

const DAY = 86_400_000;

export function certStatus(x509: X509Certificate, path: string, hosted: string[], warnDays: number, now = new Date()): CertStatus {
  const names = dnsNames(x509);
  const notAfter = new Date(x509.validTo);
  const notBefore = new Date(x509.validFrom);
  const daysLeft = Math.floor((notAfter.getTime() - now.getTime()) / DAY);
  const expired = notAfter.getTime() <= now.getTime();
  return {
    path,
    subject: commonName(x509.subject) ?? x509.subject.replace(/\n/g, ", "),
    issuer: commonName(x509.issuer) ?? x509.issuer.replace(/\n/g, ", "),
    selfSigned: x509.subject === x509.issuer && x509.checkIssued(x509),
    notAfter,
    daysLeft,
    expired,
    notYetValid: notBefore.getTime() > now.getTime(),
    expiringSoon: !expired && daysLeft < warnDays,
    names,
    covers: hosted.filter((h) => names.some((n) => matchDnsId(n, h))),
  };
}

/** Hosted names no certificate in the list covers (expired ones do not count). */
export function uncoveredNames(statuses: CertStatus[], hosted: string[]): string[] {
  const live = statuses.filter((s) => !s.expired && !s.notYetValid);
  return hosted.filter((h) => !live.some((s) => s.covers.includes(h)));
}
