import type { Command } from "commander";
import { notBuilt } from "../run.js";

export function registerArchive(program: Command): void {
  program
    .command("archive")
    .description("the message archive: search, export, verify, hold, purge")
    .allowUnknownOption()
    .argument("[args...]")
    .action(notBuilt("archive tooling"));
}
