import type { Command } from "commander";
import { loadConfig } from "../../config/load.js";
import { UsageError } from "../../errors.js";
import { createResolver, parseServer } from "../../edge/dns/resolver.js";
import { requiredRecords, zoneText } from "../../edge/dns/records.js";
import { checkRecords, describeResult } from "../../edge/dns/check.js";
import { action } from "../run.js";

export function registerDns(program: Command): void {
  const dns = program.command("dns").description("DNS records to publish and check: records, check");
  const config = () => loadConfig({ path: program.opts<{ config?: string }>().config });

  dns
    .command("records")
    .description("print the SRV and A/AAAA records to publish, in zone-file syntax")
    .action(
      action(async () => {
        process.stdout.write(zoneText(requiredRecords(config())));
      }),
    );

  dns
    .command("check")
    .description("query the published records and report what is missing or points elsewhere")
    .option("--server <ip:port>", "DNS server to ask (default: dns.servers from the config, else the system resolver)")
    .option("--timeout <ms>", "per-query timeout in milliseconds")
    .action(
      action(async (opts: { server?: string; timeout?: string }) => {
        const cfg = config();
        const timeoutMs = opts.timeout === undefined ? cfg.dns.timeout_ms : Number(opts.timeout);
        if (!Number.isInteger(timeoutMs) || timeoutMs < 1 || timeoutMs > 60_000) throw new UsageError("--timeout must be 1-60000 ms");
        if (opts.server) {
          try {
            parseServer(opts.server);
          } catch (err) {
            throw new UsageError(`--server: ${(err as Error).message}`);
          }
        }
        const servers = opts.server ? [opts.server] : cfg.dns.servers;
        const plan = requiredRecords(cfg);
        for (const n of plan.notes) process.stdout.write(`note: ${n}\n`);
        const results = await checkRecords(createResolver({ servers, timeoutMs, maxTtlS: 0, minTtlS: 0 }), plan.records);
        for (const r of results) process.stdout.write(`${describeResult(r)}\n`);
        const bad = results.filter((r) => r.state !== "ok");
        const missing = bad.filter((r) => r.state === "missing").length;
        process.stdout.write(
          bad.length
            ? `${bad.length} of ${results.length} records need attention (${missing} missing, ${bad.length - missing} pointing elsewhere)\n`
            : `all ${results.length} records published correctly\n`,
        );
        return bad.length ? 1 : 0;
      }),
    );
}
