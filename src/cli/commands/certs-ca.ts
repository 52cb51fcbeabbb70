/**
 * `demarc certs ca init|issue`: a local CA for labs and tests.
 */
import type { Command } from "commander";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { X509Certificate } from "node:crypto";
import { resolvePath, type LoadedConfig } from "../../config/load.js";
import { UsageError } from "../../errors.js";
import { LocalCa } from "../../tls/ca.js";
import { writePrivateKey, writePublicFile } from "../../tls/files.js";
import { hostedDomains, hostedSan } from "../../tls/names.js";
import { certStatus } from "../../tls/status.js";
import { action } from "../run.js";
import { intOption, out, refuseOverwrite } from "./certs-common.js";

/** Signs the request given, or makes a key and certificate for the hosted names (or --domain). */
function issue(authority: LocalCa, cfg: LoadedConfig, opts: { csr?: string; domain?: string[] }, days: number) {
  if (opts.csr) {
    if (opts.domain) throw new UsageError("--csr and --domain do not go together: the request names the domains");
    if (!existsSync(opts.csr)) throw new UsageError(`${opts.csr}: no such file`);
    return authority.signCsr(readFileSync(opts.csr, "utf8"), days);
  }
  const hosted = opts.domain ? hostedDomains({ ...cfg, domains: opts.domain }) : hostedDomains(cfg);
  return authority.issue({ commonName: hosted[0]!.domain, san: hostedSan(hosted), days });
}

export function registerCa(certs: Command, config: () => LoadedConfig): void {
  const ca = certs.command("ca").description("a local CA for labs and tests: init, issue");
  const caDir = (cfg: LoadedConfig, dir?: string) => dir ?? resolvePath(cfg, cfg.tls.ca_dir);
  ca.command("init")
    .description("create the CA key and certificate")
    .option("--dir <dir>", "CA folder (default: tls.ca_dir)")
    .option("--name <cn>", "CA common name", "demarc local CA")
    .option("--days <n>", "validity in days", "3650")
    .option("--force", "replace an existing CA")
    .action(
      action(async (opts: { dir?: string; name: string; days: string; force?: boolean }) => {
        const c = LocalCa.init(caDir(config(), opts.dir), { name: opts.name, days: intOption(opts.days, "--days", 1, 36500)!, force: !!opts.force });
        out(`CA certificate: ${c.certPath}`);
        out(`CA private key: ${c.keyPath} (mode 0600)`);
        out(`SHA-256: ${new X509Certificate(c.certPem).fingerprint256}`);
      }),
    );
  ca.command("issue")
    .description("issue a certificate: for a CSR (--csr), or with a new key for the hosted names (or --domain)")
    .option("--dir <dir>", "CA folder (default: tls.ca_dir)")
    .option("--csr <file>", "sign this request")
    .option("--domain <name...>", "names to issue for instead of the hosted ones")
    .option("--out <dir>", "where to write NAME.crt (and NAME.key)", ".")
    .option("--name <base>", "file name base", "demarc")
    .option("--days <n>", "validity in days", "825")
    .option("--force", "replace existing files")
    .action(
      action(async (opts: { dir?: string; csr?: string; domain?: string[]; out: string; name: string; days: string; force?: boolean }) => {
        const cfg = config();
        const authority = LocalCa.open(caDir(cfg, opts.dir));
        const days = intOption(opts.days, "--days", 1, 3650)!;
        const certPath = join(opts.out, `${opts.name}.crt`);
        const keyPath = join(opts.out, `${opts.name}.key`);
        refuseOverwrite(opts.csr ? [certPath] : [certPath, keyPath], opts.force);
        const issued = issue(authority, cfg, opts, days);
        writePublicFile(certPath, issued.cert);
        out(`certificate: ${certPath}`);
        if (issued.key) {
          writePrivateKey(keyPath, issued.key);
          out(`private key: ${keyPath} (mode 0600)`);
        }
        out(`names: ${certStatus(new X509Certificate(issued.cert), certPath, [], 0).names.join(", ")}`);
      }),
    );
}
