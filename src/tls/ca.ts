/**
 * A local certificate authority for labs and tests (`demarc certs ca`): a CA
 * key and certificate in one folder, issuing SAN certificates for gateways
 * and partners. Not a substitute for a real CA in production.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { X509Certificate, createPrivateKey } from "node:crypto";
import forge from "node-forge";
import { ConfigError, UsageError } from "../errors.js";
import { buildCertificate, generateKey } from "./build.js";
import { writePrivateKey, writePublicFile } from "./files.js";
import { readSan, type SanNames } from "./san.js";

export interface IssueOptions {
  commonName: string;
  san: SanNames;
  days?: number;
  notBefore?: Date;
  /** Sign this public key (from a CSR) instead of generating a new key. */
  publicKey?: string;
}

export interface Issued {
  cert: string;
  /** Absent when a CSR's public key was signed. */
  key?: string;
}

export class LocalCa {
  private constructor(
    readonly dir: string,
    readonly certPath: string,
    readonly keyPath: string,
    readonly certPem: string,
    readonly keyPem: string,
  ) {}

  static paths(dir: string): { certPath: string; keyPath: string } {
    return { certPath: join(dir, "ca.crt"), keyPath: join(dir, "ca.key") };
  }

  static init(dir: string, opts: { name?: string; days?: number; force?: boolean; keyBits?: number } = {}): LocalCa {
    const { certPath, keyPath } = LocalCa.paths(dir);
    if (!opts.force && (existsSync(certPath) || existsSync(keyPath))) {
      throw new UsageError(`a CA already exists in ${dir} (use --force to replace it)`);
    }
    const k = generateKey(opts.keyBits ?? 3072);
    const cert = buildCertificate({
      commonName: opts.name ?? "demarc local CA",
      organization: "demarc",
      publicKey: k.publicKey,
      signingKey: k.key,
      days: opts.days ?? 3650,
      ca: true,
    });
    writePrivateKey(keyPath, k.key);
    writePublicFile(certPath, cert);
    return new LocalCa(dir, certPath, keyPath, cert, k.key);
  }

  static open(dir: string): LocalCa {
    const { certPath, keyPath } = LocalCa.paths(dir);
    if (!existsSync(certPath) || !existsSync(keyPath)) throw new UsageError(`no CA in ${dir} (run: demarc certs ca init)`);
    const cert = readFileSync(certPath, "utf8");
    const key = readFileSync(keyPath, "utf8");
    try {
      if (!new X509Certificate(cert).checkPrivateKey(createPrivateKey(key))) throw new Error("mismatch");
    } catch {
      throw new ConfigError(`${dir}: ca.crt and ca.key do not form a pair`);
    }
    return new LocalCa(dir, certPath, keyPath, cert, key);
  }

  issue(opts: IssueOptions): Issued {
    const fresh = opts.publicKey ? undefined : generateKey();
    const cert = buildCertificate({
      commonName: opts.commonName,
      san: opts.san,
      publicKey: opts.publicKey ?? fresh!.publicKey,
      issuer: { cert: this.certPem },
      signingKey: this.keyPem,
      days: opts.days ?? 825,
      ...(opts.notBefore ? { notBefore: opts.notBefore } : {}),
    });
    return fresh ? { cert, key: fresh.key } : { cert };
  }

  /** Signs a PKCS#10 request, keeping the names it asks for (after checking its signature). */
  signCsr(csrPem: string, days?: number): Issued {
    let csr: ReturnType<typeof forge.pki.certificationRequestFromPem>;
    try {
      csr = forge.pki.certificationRequestFromPem(csrPem);
    } catch {
      throw new UsageError("not a PEM certificate request (PKCS#10, RSA)");
    }
    if (!csr.verify()) throw new UsageError("the certificate request's signature does not verify");
    const cn = csr.subject.getField("CN")?.value as string | undefined;
    const san = csrSan(csrPem);
    if (!cn && !san) throw new UsageError("the certificate request names no subject and no subjectAltName");
    return this.issue({
      commonName: cn ?? san!.dns?.[0] ?? "demarc",
      san: san ?? { dns: [cn!] },
      publicKey: forge.pki.publicKeyToPem(csr.publicKey as forge.pki.rsa.PublicKey),
      ...(days ? { days } : {}),
    });
  }
}

/** The subjectAltName requested in a CSR's extensionRequest, parsed by our own reader. */
function csrSan(csrPem: string): SanNames | undefined {
  const csr = forge.pki.certificationRequestFromPem(csrPem);
  const req = (csr.getAttribute({ name: "extensionRequest" }) as { extensions?: { id: string; value: string }[] } | null)?.extensions;
  const ext = req?.find((e) => e.id === "2.5.29.17");
  if (!ext) return undefined;
  // Wrap the bare GeneralNames in a minimal certificate-shaped structure readSan understands.
  const { asn1 } = forge;
  const extNode = asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [
    asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OID, false, asn1.oidToDer("2.5.29.17").getBytes()),
    asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OCTETSTRING, false, typeof ext.value === "string" ? ext.value : asn1.toDer(ext.value as unknown as forge.asn1.Asn1).getBytes()),
  ]);
  const tbs = asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [
    asn1.create(asn1.Class.CONTEXT_SPECIFIC, 3, true, [asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [extNode])]),
  ]);
  const fake = asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [tbs]);
  const san = readSan(Buffer.from(asn1.toDer(fake).getBytes(), "binary"));
  if (!san) return undefined;
  return { dns: san.dns, xmppAddr: san.xmppAddr, srv: san.srv, uri: san.uri, ip: san.ip };
}
