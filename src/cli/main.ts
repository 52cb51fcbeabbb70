/**
 * The demarc command. Each subcommand lives in its own file under commands/.
 */
import { Command, CommanderError } from "commander";
import { registerStart } from "./commands/start.js";
import { notBuilt } from "./run.js";
import { EXIT } from "../errors.js";

const program = new Command("demarc")
  .description("federation and compliance edge gateway for enterprise instant messaging")
  .version("0.1.0")
  .option("-c, --config <file>", "config file (default: $DEMARC_CONFIG, else built-in defaults)")
  .showHelpAfterError("(run demarc --help for usage)")
  .exitOverride();

registerStart(program);

const stubs: [string, string, string][] = [
  ["certs", "certificates: csr, selfsign, ca, install, status", "certificate management"],
  ["policy", "compliance policy: lint, test, explain", "policy tooling"],
  ["archive", "the message archive: search, export, verify, hold, purge", "archive tooling"],
  ["dns", "DNS records to publish and check: records, check", "DNS tooling"],
  ["users", "internal users: add, remove, list, passwd, import", "user provisioning"],
];
for (const [name, description, what] of stubs) {
  program.command(name).description(description).allowUnknownOption().argument("[args...]").action(notBuilt(what));
}

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    process.exitCode = err.exitCode === 0 ? EXIT.ok : EXIT.usage;
  } else {
    throw err;
  }
}
