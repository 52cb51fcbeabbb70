import type { Command } from "commander";
import { notBuilt } from "../run.js";

export function registerDns(program: Command): void {
  program
    .command("dns")
    .description("DNS records to publish and check: records, check")
    .allowUnknownOption()
    .argument("[args...]")
    .action(notBuilt("DNS tooling"));
}
