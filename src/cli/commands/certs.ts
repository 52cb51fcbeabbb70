import type { Command } from "commander";
import { notBuilt } from "../run.js";

export function registerCerts(program: Command): void {
  program
    .command("certs")
    .description("certificates: csr, selfsign, ca, install, status")
    .allowUnknownOption()
    .argument("[args...]")
    .action(notBuilt("certificate management"));
}
