/**
 * The demarc command. Each subcommand lives in its own file under commands/.
 */
import { Command, CommanderError } from "commander";
import { EXIT } from "../errors.js";
import { registerStart } from "./commands/start.js";
import { registerCerts } from "./commands/certs.js";
import { registerPolicy } from "./commands/policy.js";
import { registerArchive } from "./commands/archive.js";
import { registerDns } from "./commands/dns.js";
import { registerUsers } from "./commands/users.js";
import { registerOfficers } from "./commands/officers.js";
import { registerEdge } from "./commands/edge.js";

const program = new Command("demarc")
  .description("federation and compliance edge gateway for enterprise instant messaging")
  .version("0.1.0")
  .option("-c, --config <file>", "config file (default: $DEMARC_CONFIG, else built-in defaults)")
  .showHelpAfterError("(run demarc --help for usage)")
  // Commander's own usage errors read as demarc's: "demarc: E_USAGE: unknown option '--x'", exit 64.
  .configureOutput({ outputError: (text, write) => write(text.replace(/^error: /, "demarc: E_USAGE: ")) })
  .exitOverride();

registerStart(program);
registerCerts(program);
registerPolicy(program);
registerArchive(program);
registerDns(program);
registerUsers(program);
registerOfficers(program);
registerEdge(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    process.exitCode = err.exitCode === 0 ? EXIT.ok : EXIT.usage;
  } else {
    throw err;
  }
}
