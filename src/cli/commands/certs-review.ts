/**
 * `demarc certs install|status`: a certificate checked against its key and
 * the hosted names before it is installed, and every certificate's coverage
 * and expiry. Checks return data; the commands print it.
 */
import type { Command } from "commander";
import { existsSync, readFileSync } from "node:fs";
import { basename, join } from "node:path";
import { X509Certificate } from "node:crypto";
import { resolvePath, type LoadedConfig } from "../../config/load.js";
import { UsageError } from "../../errors.js";
import { writePrivateKey, writePublicFile } from "../../tls/files.js";
import { hostedNames } from "../../tls/names.js";
import { certificateEntries, installedDir } from "../../tls/store.js";
import { certStatus, uncoveredNames, type CertStatus } from "../../tls/status.js";
import { checkForInstall, type InstallCheck } from "../../tls/install.js";
import { chainsTo } from "../../tls/trust.js";
import { trustFromConfig } from "../../tls/module.js";
import { action } from "../run.js";
import { out, tlsDir } from "./certs-common.js";

/** Writes the checked chain and key into the installed folder; returns the certificate's path. */
function install(cfg: LoadedConfig, cert: string, check: InstallCheck, name: string | undefined): string {
  const base = (name ?? basename(cert).replace(/\.(pem|crt|cer)$/i, "")).replace(/[^A-Za-z0-9._-]/g, "_");
  const dir = installedDir(tlsDir(cfg));
  writePublicFile(join(dir, `${base}.crt`), `${check.chain.join("\n")}\n`);
  writePrivateKey(join(dir, `${base}.key`), check.keyPem);
  return join(dir, `${base}.crt`);
}

/** What the operator is told after an install; a generator, so each line is out before the next is worked out. */
function* installReport(cfg: LoadedConfig, path: string, check: InstallCheck): Generator<string> {
  const { status } = check;
  yield `installed ${path} covering ${status.covers.join(", ")}; expires ${status.notAfter.toISOString().slice(0, 10)} (${status.daysLeft} days)`;
  if (check.missing.length) yield `warning: not covered by this certificate: ${check.missing.join(", ")}`;
  if (status.expiringSoon) yield `warning: expires in ${status.daysLeft} days`;
  if (!chainsTo(check.chain, trustFromConfig(cfg).ca)) {
    yield `warning: issuer "${status.issuer}" is not in the trust store (system roots, tls.trust.ca_files): partners that do not trust it will refuse this certificate`;
  }
  yield "a running gateway picks it up on restart";
}

export function registerInstall(certs: Command, config: () => LoadedConfig): void {
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
        const check = checkForInstall(cert, key, hostedNames(cfg), cfg.tls.warn_days);
        if (check.missing.length && !opts.partial) {
          throw new UsageError(`${cert} does not cover ${check.missing.join(", ")} (it names ${check.status.names.join(", ") || "nothing"}); not installed (use --partial if another certificate covers them)`);
        }
        const path = install(cfg, cert, check, opts.name);
        for (const line of installReport(cfg, path, check)) out(line);
      }),
    );
}

/** Every configured or installed certificate (else the self-signed one), read and checked against the hosted names. */
function certificateStatuses(cfg: LoadedConfig, hosted: string[]): CertStatus[] {
  const dir = tlsDir(cfg);
  let entries = certificateEntries(dir, cfg.tls.certificates.map((c) => ({ cert: resolvePath(cfg, c.cert), key: resolvePath(cfg, c.key) })));
  if (entries.length === 0 && existsSync(join(dir, "selfsigned.crt"))) entries = [{ cert: join(dir, "selfsigned.crt"), key: join(dir, "selfsigned.key") }];
  return entries.map((e) => {
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
}

function statusLines(statuses: CertStatus[], missing: string[]): string[] {
  const lines: string[] = [];
  if (statuses.length === 0) lines.push("no certificate installed (the gateway makes a self-signed one on start)");
  for (const s of statuses) {
    const flag = s.expired ? "EXPIRED" : s.notYetValid ? "NOT YET VALID" : s.expiringSoon ? `WARNING: expires in ${s.daysLeft} days` : "ok";
    lines.push(
      `${s.path}: ${flag}`,
      `  covers:  ${s.covers.join(", ") || "(no hosted name)"}`,
      `  names:   ${s.names.join(", ")}`,
      `  issuer:  ${s.issuer}${s.selfSigned ? " (self-signed)" : ""}`,
      `  expires: ${s.notAfter.toISOString().slice(0, 10)} (${s.daysLeft} days left)`,
    );
  }
  if (missing.length) lines.push(`NOT COVERED: ${missing.join(", ")} (run: demarc certs csr)`);
  return lines;
}

export function registerStatus(certs: Command, config: () => LoadedConfig): void {
  certs
    .command("status")
    .description("per certificate: names covered, issuer, expiry; non-zero exit when a hosted name is uncovered or a certificate expired")
    .option("--json", "machine-readable output")
    .action(
      action(async (opts: { json?: boolean }) => {
        const cfg = config();
        const hosted = hostedNames(cfg);
        const statuses = certificateStatuses(cfg, hosted);
        const missing = uncoveredNames(statuses, hosted);
        if (opts.json) out(JSON.stringify({ certificates: statuses, uncovered: missing }, null, 2));
        else for (const line of statusLines(statuses, missing)) out(line);
        return missing.length || statuses.some((s) => s.expired) ? 1 : 0;
      }),
    );
}
