/**
 * A throwaway CA for tests, built on the product's own local CA (src/tls/ca.ts)
 * so every test that uses it also exercises the certificate code.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { LocalCa } from "../../src/tls/ca.js";
import { writePrivateKey, writePublicFile } from "../../src/tls/files.js";

export interface IssueTestCert {
  name: string;
  domains: string[];
  xmppAddrs?: string[];
  srvNames?: string[];
  uris?: string[];
  days?: number;
  notBefore?: Date;
}

export interface TestCa {
  dir: string;
  certPath: string;
  certPem: string;
  keyPem: string;
  issue(opts: IssueTestCert): { cert: string; key: string; certPath: string; keyPath: string };
}

export function createTestCa(dir: string): TestCa {
  mkdirSync(dir, { recursive: true });
  // 2048-bit keeps test setup fast; the product default is 3072.
  const ca = LocalCa.init(dir, { name: "demarc test CA", force: true, keyBits: 2048 });
  return {
    dir,
    certPath: ca.certPath,
    certPem: ca.certPem,
    keyPem: ca.keyPem,
    issue(opts) {
      const issued = ca.issue({
        commonName: opts.domains[0] ?? opts.name,
        san: {
          dns: opts.domains,
          ...(opts.xmppAddrs ? { xmppAddr: opts.xmppAddrs } : {}),
          ...(opts.srvNames ? { srv: opts.srvNames } : {}),
          ...(opts.uris ? { uri: opts.uris } : {}),
        },
        ...(opts.days !== undefined ? { days: opts.days } : {}),
        ...(opts.notBefore ? { notBefore: opts.notBefore } : {}),
      });
      const certPath = join(dir, `${opts.name}.crt`);
      const keyPath = join(dir, `${opts.name}.key`);
      writePublicFile(certPath, issued.cert);
      writePrivateKey(keyPath, issued.key!);
      return { cert: issued.cert, key: issued.key!, certPath, keyPath };
    },
  };
}
