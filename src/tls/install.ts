/**
 * Checks a certificate and key before they are installed: the key must be
 * the certificate's, the certificate must be currently valid, and it should
 * cover every hosted name (the caller decides whether partial cover is allowed).
 */
import { readFileSync } from "node:fs";
import { X509Certificate, createPrivateKey, type KeyObject } from "node:crypto";
import { UsageError } from "../errors.js";
import { splitPem } from "./trust.js";
import { certStatus, type CertStatus } from "./status.js";

export interface InstallCheck {
  status: CertStatus;
  /** Hosted names it does not cover. */
  missing: string[];
  /** The certificate file's PEM blocks (leaf first, then any chain). */
  chain: string[];
  keyPem: string;
}

const KEY_BLOCK = /-----BEGIN (?:RSA |EC |ENCRYPTED )?PRIVATE KEY-----[\s\S]+?-----END (?:RSA |EC |ENCRYPTED )?PRIVATE KEY-----/;

function read(path: string, what: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (err) {
    throw new UsageError(`${path}: cannot read ${what} (${(err as NodeJS.ErrnoException).code ?? "error"})`);
  }
}

/** keyPath may be omitted when the certificate file also holds the key. */
export function checkForInstall(certPath: string, keyPath: string | undefined, hosted: string[], warnDays: number): InstallCheck {
  const certText = read(certPath, "certificate");
  const chain = splitPem(certText);
  if (chain.length === 0) throw new UsageError(`${certPath}: no PEM certificate in the file`);
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(chain[0]!);
  } catch {
    throw new UsageError(`${certPath}: the first certificate does not parse`);
  }
  const keyText = keyPath ? read(keyPath, "private key") : certText;
  const keyPem = KEY_BLOCK.exec(keyText)?.[0];
  if (!keyPem) throw new UsageError(keyPath ? `${keyPath}: no PEM private key in the file` : `${certPath} holds no private key: give the key file too`);
  if (keyPem.includes("ENCRYPTED")) throw new UsageError(`${keyPath ?? certPath}: the private key is encrypted; install an unencrypted key (it is stored with mode 0600)`);
  let key: KeyObject;
  try {
    key = createPrivateKey(keyPem);
  } catch {
    throw new UsageError(`${keyPath ?? certPath}: the private key does not parse`);
  }
  if (!x509.checkPrivateKey(key)) throw new UsageError(`${keyPath ?? certPath}: this key does not belong to the certificate in ${certPath}`);
  const status = certStatus(x509, certPath, hosted, warnDays);
  if (status.expired) throw new UsageError(`${certPath}: the certificate expired on ${status.notAfter.toISOString().slice(0, 10)}`);
  if (status.notYetValid) throw new UsageError(`${certPath}: the certificate is not valid before ${x509.validFrom}`);
  for (const [i, pem] of chain.slice(1).entries()) {
    try {
      new X509Certificate(pem);
    } catch {
      throw new UsageError(`${certPath}: chain certificate #${i + 2} does not parse`);
    }
  }
  return { status, missing: hosted.filter((h) => !status.covers.includes(h)), chain, keyPem: key.export({ type: "pkcs8", format: "pem" }).toString() };
}
