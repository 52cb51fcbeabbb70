/**
 * Certificates and CSRs for the hosted domains, built with node-forge on keys
 * made by Node's crypto (forge signs with RSA only, and Node is much faster at
 * key generation). The subjectAltName comes from san.ts, never from forge's
 * own builder (it mis-tags otherName).
 */
import { generateKeyPairSync, randomBytes } from "node:crypto";
import forge from "node-forge";
import { sanExtension, type SanNames } from "./san.js";

export interface KeyPair {
  /** PKCS#8 PEM. */
  key: string;
  /** SPKI PEM. */
  publicKey: string;
}

export function generateKey(bits = 2048): KeyPair {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: bits });
  return {
    key: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
    publicKey: publicKey.export({ type: "spki", format: "pem" }).toString(),
  };
}

/** A positive 128-bit serial (RFC 5280 section 4.1.2.2: positive, at most 20 octets). */
function serialNumber(): string {
  const serial = randomBytes(16);
  serial[0] = (serial[0]! & 0x7f) | 0x01;
  return serial.toString("hex");
}

type Attr = { shortName: string; value: string };

function subjectAttrs(cn: string, org?: string): Attr[] {
  const attrs: Attr[] = [{ shortName: "CN", value: cn }];
  if (org) attrs.push({ shortName: "O", value: org });
  return attrs;
}

export interface CertificateSpec {
  commonName: string;
  organization?: string;
  /** Omit for a CA certificate without names. */
  san?: SanNames;
  publicKey: string;
  /** The signer; omit for self-signed (then `signingKey` is the subject's own key). */
  issuer?: { cert: string };
  signingKey: string;
  days: number;
  notBefore?: Date;
  ca?: boolean;
}

export function buildCertificate(spec: CertificateSpec): string {
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(spec.publicKey);
  cert.serialNumber = serialNumber();
  // A minute of slack for peers whose clocks run slightly behind.
  const notBefore = spec.notBefore ?? new Date(Date.now() - 60_000);
  cert.validity.notBefore = notBefore;
  cert.validity.notAfter = new Date(notBefore.getTime() + spec.days * 86_400_000);
  cert.setSubject(subjectAttrs(spec.commonName, spec.organization));
  const issuer = spec.issuer ? forge.pki.certificateFromPem(spec.issuer.cert) : undefined;
  cert.setIssuer(issuer ? issuer.subject.attributes : cert.subject.attributes);
  const exts: object[] = [];
  if (spec.ca) {
    exts.push({ name: "basicConstraints", cA: true, critical: true });
    exts.push({ name: "keyUsage", keyCertSign: true, cRLSign: true, critical: true });
  } else {
    exts.push({ name: "basicConstraints", cA: false });
    exts.push({ name: "keyUsage", digitalSignature: true, keyEncipherment: true, critical: true });
    // s2s and SIP servers also initiate connections and present the same certificate as clients.
    exts.push({ name: "extKeyUsage", serverAuth: true, clientAuth: true });
  }
  if (spec.san) exts.push(sanExtension(spec.san));
  exts.push({ name: "subjectKeyIdentifier" });
  if (issuer) {
    const ski = issuer.getExtension("subjectKeyIdentifier") as { subjectKeyIdentifier?: string } | null;
    if (ski?.subjectKeyIdentifier) exts.push({ name: "authorityKeyIdentifier", keyIdentifier: forge.util.hexToBytes(ski.subjectKeyIdentifier) });
  } else if (spec.ca) {
    exts.push({ name: "authorityKeyIdentifier", keyIdentifier: true });
  }
  cert.setExtensions(exts);
  cert.sign(forge.pki.privateKeyFromPem(spec.signingKey), forge.md.sha256.create());
  return forge.pki.certificateToPem(cert);
}

/** A PKCS#10 request carrying the subjectAltName as an extensionRequest attribute. */
export function buildCsr(opts: { commonName: string; organization?: string; san: SanNames; key: string; publicKey: string }): string {
  const csr = forge.pki.createCertificationRequest();
  csr.publicKey = forge.pki.publicKeyFromPem(opts.publicKey);
  csr.setSubject(subjectAttrs(opts.commonName, opts.organization));
  csr.setAttributes([
    {
      name: "extensionRequest",
      extensions: [
        sanExtension(opts.san),
        { name: "keyUsage", digitalSignature: true, keyEncipherment: true },
        { name: "extKeyUsage", serverAuth: true, clientAuth: true },
      ],
    },
  ]);
  csr.sign(forge.pki.privateKeyFromPem(opts.key), forge.md.sha256.create());
  return forge.pki.certificationRequestToPem(csr);
}
