/**
 * The certificates this gateway presents. Picks, per hosted domain, the
 * installed certificate that covers it (SNI), and says which hosted domains no
 * certificate covers so startup and /readyz can report them.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { createSecureContext, type SecureContext } from "node:tls";
import { X509Certificate, createPrivateKey } from "node:crypto";
import { ConfigError } from "../errors.js";
import { selfSign } from "./selfsign.js";
import type { HostedDomain } from "./names.js";
import { matchDnsId, peerNames } from "./peer.js";
import { writePrivateKey, writePublicFile } from "./files.js";

export interface LoadedCert {
  certPath: string;
  keyPath: string;
  cert: string;
  key: string;
  x509: X509Certificate;
  /** DNS names in the subjectAltName (the CN only when there is no SAN). */
  names: string[];
  context: SecureContext;
}

export interface CertStoreOptions {
  dir: string;
  certificates: { cert: string; key: string }[];
  domains: string[];
  minVersion: "TLSv1.2" | "TLSv1.3";
}

export class CertStore {
  readonly certs: LoadedCert[];
  /** Set when the store made a self-signed certificate on this start. */
  generated: string | undefined;

  private constructor(
    certs: LoadedCert[],
    generated: string | undefined,
    private readonly domains: string[],
    /** Set when the store runs on the self-signed certificate (nothing installed). */
    private readonly selfSigned?: { dir: string; minVersion: "TLSv1.2" | "TLSv1.3" },
  ) {
    this.certs = certs;
    this.generated = generated;
  }

  /**
   * On the self-signed certificate, remakes it when it misses any of `names`
   * (service subdomains the domain list alone does not show). Installed
   * certificates are never touched. Returns whether it remade it.
   */
  coverSelfSigned(hosted: HostedDomain[]): boolean {
    if (!this.selfSigned) return false;
    const names = hosted.flatMap((h) => [h.domain, ...h.services, ...h.subdomains]);
    const current = this.certs[0];
    if (current && names.every((n) => current.names.some((p) => dnsMatch(p, n)))) return false;
    const certPath = join(this.selfSigned.dir, "selfsigned.crt");
    const keyPath = join(this.selfSigned.dir, "selfsigned.key");
    const pair = selfSign(hosted);
    writePrivateKey(keyPath, pair.key);
    writePublicFile(certPath, pair.cert);
    this.certs.splice(0, this.certs.length, loadPair(certPath, keyPath, this.selfSigned.minVersion));
    this.generated = certPath;
    return true;
  }

  static load(opts: CertStoreOptions): CertStore {
    let entries = certificateEntries(opts.dir, opts.certificates);
    let generated: string | undefined;
    const selfSigned = entries.length === 0 ? { dir: opts.dir, minVersion: opts.minVersion } : undefined;
    if (selfSigned) {
      const certPath = join(opts.dir, "selfsigned.crt");
      const keyPath = join(opts.dir, "selfsigned.key");
      if (!existsSync(certPath) || !existsSync(keyPath) || !coversAll(readFileSync(certPath, "utf8"), opts.domains)) {
        mkdirSync(opts.dir, { recursive: true });
        const pair = selfSign(opts.domains);
        writePrivateKey(keyPath, pair.key);
        writePublicFile(certPath, pair.cert);
        generated = certPath;
      }
      entries = [{ cert: certPath, key: keyPath }];
    }
    const certs = entries.map((e) => loadPair(e.cert, e.key, opts.minVersion));
    return new CertStore(certs, generated, opts.domains, selfSigned);
  }

  /** The certificate to present for a requested server name. */
  forDomain(name: string): LoadedCert | undefined {
    const n = name.toLowerCase();
    return this.certs.find((c) => c.names.some((pattern) => dnsMatch(pattern, n)));
  }

  get defaultCert(): LoadedCert {
    return this.forDomain(this.domains[0]!) ?? this.certs[0]!;
  }

  /** Hosted domains that no installed certificate covers. */
  uncovered(): string[] {
    return this.domains.filter((d) => !this.forDomain(d));
  }
}

/** Where `demarc certs install` puts certificates, so they load without editing the config. */
export function installedDir(dir: string): string {
  return join(dir, "installed");
}

/** Certificates from the config, then installed ones (NAME.crt beside NAME.key). */
export function certificateEntries(dir: string, configured: { cert: string; key: string }[]): { cert: string; key: string }[] {
  const out = [...configured];
  const inst = installedDir(dir);
  if (!existsSync(inst)) return out;
  for (const f of readdirSync(inst).sort()) {
    if (!f.endsWith(".crt")) continue;
    const key = join(inst, `${f.slice(0, -4)}.key`);
    if (existsSync(key)) out.push({ cert: join(inst, f), key });
  }
  return out;
}

function loadPair(certPath: string, keyPath: string, minVersion: "TLSv1.2" | "TLSv1.3"): LoadedCert {
  const cert = readOrFail(certPath, "certificate");
  const key = readOrFail(keyPath, "private key");
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(cert);
  } catch {
    throw new ConfigError(`${certPath}: not a PEM certificate`);
  }
  try {
    if (!x509.checkPrivateKey(createPrivateKey(key))) {
      throw new ConfigError(`${keyPath}: this key does not belong to ${certPath}`);
    }
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw new ConfigError(`${keyPath}: not a PEM private key`);
  }
  const context = createSecureContext({ cert, key, minVersion });
  return { certPath, keyPath, cert, key, x509, names: dnsNames(x509), context };
}

function readOrFail(path: string, what: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (err) {
    throw new ConfigError(`${path}: cannot read ${what} (${(err as NodeJS.ErrnoException).code ?? "error"})`);
  }
}

/**
 * The DNS names a certificate covers: its SAN DNS-IDs, or its CN only when it
 * has no DNS-ID (RFC 6125 section 6.4.4).
 */
export function dnsNames(x509: X509Certificate): string[] {
  const names = peerNames(x509);
  if (names.dns.length) return names.dns;
  return names.cn ? [names.cn.toLowerCase()] : [];
}

/** RFC 6125 section 6.4.3: a wildcard only as the whole leftmost label. */
export function dnsMatch(pattern: string, name: string): boolean {
  return matchDnsId(pattern, name);
}

function coversAll(pem: string, domains: string[]): boolean {
  try {
    const names = dnsNames(new X509Certificate(pem));
    return domains.every((d) => names.some((p) => dnsMatch(p, d.toLowerCase())));
  } catch {
    return false;
  }
}
