import type { Command } from "commander";
import { notBuilt } from "../run.js";

export function registerPolicy(program: Command): void {
  program
    .command("policy")
    .description("compliance policy: lint, test, explain")
    .allowUnknownOption()
    .argument("[args...]")
    .action(notBuilt("policy tooling"));
}
