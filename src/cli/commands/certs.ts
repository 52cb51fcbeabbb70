/**
 * `demarc certs`: CSRs and certificates naming every hosted domain, a local
 * CA for labs, installing and reviewing certificates. Private keys are written
 * with mode 0600 and never printed.
 */
import type { Command } from "commander";
import { existsSync, readFileSync } from "node:fs";
import { basename, join } from "node:path";
import { X509Certificate } from "node:crypto";
import { loadConfig, resolvePath, type LoadedConfig } from "../../config/load.js";
import { UsageError } from "../../errors.js";
import { buildCsr, generateKey } from "../../tls/build.js";
import { LocalCa } from "../../tls/ca.js";
import { writePrivateKey, writePublicFile } from "../../tls/files.js";
import { hostedDomains, hostedNames, hostedSan } from "../../tls/names.js";
import { selfSign } from "../../tls/selfsign.js";
import { certificateEntries, installedDir } from "../../tls/store.js";
import { certStatus, uncoveredNames } from "../../tls/status.js";
import { checkForInstall } from "../../tls/install.js";
import { chainsTo } from "../../tls/trust.js";
import { trustFromConfig } from "../../tls/module.js";
import { action } from "../run.js";

const out = (s: string) => process.stdout.write(`${s}\n`);

function intOption(v: string | undefined, name: string, min: number, max: number): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`${name} must be a whole number from ${min} to ${max}`);
  return n;
}

function refuseOverwrite(paths: string[], force: boolean | undefined): void {
  const existing = paths.filter((p) => existsSync(p));
  if (existing.length && !force) throw new UsageError(`${existing.join(", ")} already exists (use --force to replace)`);
}

export function registerCerts(program: Command): void {
  const certs = program.command("certs").description("certificates: csr, selfsign, ca, install, status");
  const config = (): LoadedConfig => loadConfig({ path: program.opts<{ config?: string }>().config });
  const tlsDir = (cfg: LoadedConfig) => resolvePath(cfg, cfg.tls.dir);

  certs
    .command("csr")
    .description("make a key and a CSR naming every hosted domain, its services and subdomains, and the XMPP names")
    .option("--out <dir>", "where to write demarc.key and demarc.csr (default: tls.dir)")
    .option("--name <base>", "file name base", "demarc")
    .option("--bits <n>", "RSA key size", "3072")
    .option("--force", "replace existing files")
    .action(
      action(async (opts: { out?: string; name: string; bits: string; force?: boolean }) => {
        const cfg = config();
        const dir = opts.out ?? tlsDir(cfg);
        const keyPath = join(dir, `${opts.name}.key`);
        const csrPath = join(dir, `${opts.name}.csr`);
        refuseOverwrite([keyPath, csrPath], opts.force);
        const hosted = hostedDomains(cfg);
        const san = hostedSan(hosted);
        const k = generateKey(intOption(opts.bits, "--bits", 2048, 8192));
        const csr = buildCsr({ commonName: hosted[0]!.domain, san, key: k.key, publicKey: k.publicKey });
        writePrivateKey(keyPath, k.key);
        writePublicFile(csrPath, csr);
        out(`private key: ${keyPath} (mode 0600)`);
        out(`request:     ${csrPath}`);
        out(`DNS names:   ${san.dns!.join(", ")}`);
        out(`XmppAddr:    ${san.xmppAddr!.join(", ")}`);
        out(`SRVName:     ${san.srv!.join(", ")}`);
      }),
    );

  certs
    .command("selfsign")
    .description("make a self-signed certificate for every hosted name")
    .option("--out <dir>", "where to write selfsigned.crt and selfsigned.key (default: tls.dir)")
    .option("--days <n>", "validity in days", "825")
    .option("--force", "replace existing files")
    .action(
      action(async (opts: { out?: string; days: string; force?: boolean }) => {
        const cfg = config();
        const dir = opts.out ?? tlsDir(cfg);
        const certPath = join(dir, "selfsigned.crt");
        const keyPath = join(dir, "selfsigned.key");
        refuseOverwrite([certPath, keyPath], opts.force);
        const pair = selfSign(hostedDomains(cfg), intOption(opts.days, "--days", 1, 3650));
        writePrivateKey(keyPath, pair.key);
        writePublicFile(certPath, pair.cert);
        out(`certificate: ${certPath}`);
        out(`private key: ${keyPath} (mode 0600)`);
        out(`names:       ${hostedNames(cfg).join(", ")}`);
      }),
    );

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
        let issued;
        if (opts.csr) {
          if (opts.domain) throw new UsageError("--csr and --domain do not go together: the request names the domains");
          if (!existsSync(opts.csr)) throw new UsageError(`${opts.csr}: no such file`);
          issued = authority.signCsr(readFileSync(opts.csr, "utf8"), days);
        } else {
          const hosted = opts.domain ? hostedDomains({ ...cfg, domains: opts.domain }) : hostedDomains(cfg);
          issued = authority.issue({ commonName: hosted[0]!.domain, san: hostedSan(hosted), days });
        }
        writePublicFile(certPath, issued.cert);
        out(`certificate: ${certPath}`);
        if (issued.key) {
          writePrivateKey(keyPath, issued.key);
          out(`private key: ${keyPath} (mode 0600)`);
        }
        out(`names: ${certStatus(new X509Certificate(issued.cert), certPath, [], 0).names.join(", ")}`);
      }),
    );

  certs
    .command("install")
    .description("check a certificate against its key and the hosted names, then install it")
    .argument("<cert>", "certificate file (PEM, leaf first, chain may follow)")
    .argument("[key]", "private key file (omit when the certificate file holds it)")
    .option("--name <base>", "installed file name base (default: the certificate's file name)")
    .option("--partial", "install even when it covers only some hosted names (another certificate covers the rest)")
    .action(
      action(async (cert: string, key: string | undefined, opts: { name?: string; partial?: boolean }) => {
        const cfg = config();
        const hosted = hostedNames(cfg);
        const check = checkForInstall(cert, key, hosted, cfg.tls.warn_days);
        if (check.missing.length && !opts.partial) {
          throw new UsageError(`${cert} does not cover ${check.missing.join(", ")} (it names ${check.status.names.join(", ") || "nothing"}); not installed (use --partial if another certificate covers them)`);
        }
        const base = (opts.name ?? basename(cert).replace(/\.(pem|crt|cer)$/i, "")).replace(/[^A-Za-z0-9._-]/g, "_");
        const dir = installedDir(tlsDir(cfg));
        writePublicFile(join(dir, `${base}.crt`), `${check.chain.join("\n")}\n`);
        writePrivateKey(join(dir, `${base}.key`), check.keyPem);
        out(`installed ${join(dir, `${base}.crt`)} covering ${check.status.covers.join(", ")}; expires ${check.status.notAfter.toISOString().slice(0, 10)} (${check.status.daysLeft} days)`);
        if (check.missing.length) out(`warning: not covered by this certificate: ${check.missing.join(", ")}`);
        if (check.status.expiringSoon) out(`warning: expires in ${check.status.daysLeft} days`);
        if (!chainsTo(check.chain, trustFromConfig(cfg).ca)) {
          out(`warning: issuer "${check.status.issuer}" is not in the trust store (system roots, tls.trust.ca_files): partners that do not trust it will refuse this certificate`);
        }
        out("a running gateway picks it up on restart");
      }),
    );

  certs
    .command("status")
    .description("per certificate: names covered, issuer, expiry; non-zero exit when a hosted name is uncovered or a certificate expired")
    .option("--json", "machine-readable output")
    .action(
      action(async (opts: { json?: boolean }) => {
        const cfg = config();
        const dir = tlsDir(cfg);
        const hosted = hostedNames(cfg);
        let entries = certificateEntries(dir, cfg.tls.certificates.map((c) => ({ cert: resolvePath(cfg, c.cert), key: resolvePath(cfg, c.key) })));
        if (entries.length === 0 && existsSync(join(dir, "selfsigned.crt"))) entries = [{ cert: join(dir, "selfsigned.crt"), key: join(dir, "selfsigned.key") }];
        const statuses = entries.map((e) => {
          let pem: string;
          try {
            pem = readFileSync(e.cert, "utf8");
          } catch (err) {
            throw new UsageError(`${e.cert}: cannot read certificate (${(err as NodeJS.ErrnoException).code ?? "error"})`);
          }
          try {
            return certStatus(new X509Certificate(pem), e.cert, hosted, cfg.tls.warn_days);
          } catch {
            throw new UsageError(`${e.cert}: not a PEM certificate`);
          }
        });
        const missing = uncoveredNames(statuses, hosted);
        const expired = statuses.filter((s) => s.expired);
        if (opts.json) {
          out(JSON.stringify({ certificates: statuses, uncovered: missing }, null, 2));
        } else {
          if (statuses.length === 0) out("no certificate installed (the gateway makes a self-signed one on start)");
          for (const s of statuses) {
            const flag = s.expired ? "EXPIRED" : s.notYetValid ? "NOT YET VALID" : s.expiringSoon ? `WARNING: expires in ${s.daysLeft} days` : "ok";
            out(`${s.path}: ${flag}`);
            out(`  covers:  ${s.covers.join(", ") || "(no hosted name)"}`);
            out(`  names:   ${s.names.join(", ")}`);
            out(`  issuer:  ${s.issuer}${s.selfSigned ? " (self-signed)" : ""}`);
            out(`  expires: ${s.notAfter.toISOString().slice(0, 10)} (${s.daysLeft} days left)`);
          }
          if (missing.length) out(`NOT COVERED: ${missing.join(", ")} (run: demarc certs csr)`);
        }
        return missing.length || expired.length ? 1 : 0;
      }),
    );
}
