import type { Command } from "commander";
import { notBuilt } from "../run.js";

export function registerUsers(program: Command): void {
  program
    .command("users")
    .description("internal users: add, remove, list, passwd, import")
    .allowUnknownOption()
    .argument("[args...]")
    .action(notBuilt("user provisioning"));
}
