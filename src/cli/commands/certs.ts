/**
 * `demarc certs`: CSRs and certificates naming every hosted domain, a local
 * CA for labs, installing and reviewing certificates. Private keys are written
 * with mode 0600 and never printed.
 */
import type { Command } from "commander";
import { join } from "node:path";
import type { LoadedConfig } from "../../config/load.js";
import { buildCsr, generateKey } from "../../tls/build.js";
import { writePrivateKey, writePublicFile } from "../../tls/files.js";
import { hostedDomains, hostedNames, hostedSan } from "../../tls/names.js";
import { selfSign } from "../../tls/selfsign.js";
import { action } from "../run.js";
import { configOf, intOption, out, refuseOverwrite, tlsDir } from "./certs-common.js";
import { registerCa } from "./certs-ca.js";
import { registerInstall, registerStatus } from "./certs-review.js";

export function registerCerts(program: Command): void {
  const certs = program.command("certs").description("certificates: csr, selfsign, ca, install, status");
  const config = configOf(program);
  registerCsr(certs, config);
  registerSelfsign(certs, config);
  registerCa(certs, config);
  registerInstall(certs, config);
  registerStatus(certs, config);
}

function registerCsr(certs: Command, config: () => LoadedConfig): void {
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
}

function registerSelfsign(certs: Command, config: () => LoadedConfig): void {
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
}
