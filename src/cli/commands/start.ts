import type { Command } from "commander";
import { loadConfig, type LoadOptions } from "../../config/load.js";
import { createLogger } from "../../log.js";
import { Gateway } from "../../gateway/gateway.js";
import { action, fail } from "../run.js";

export function registerStart(program: Command): void {
  program
    .command("start")
    .description("start the gateway (single-box mode by default)")
    .option("-d, --domain <name...>", "hosted domain(s), overriding the config")
    .option("--data-dir <dir>", "where the archive and state live")
    .action(
      action(async (opts: { domain?: string[]; dataDir?: string }) => {
        const loadOpts: LoadOptions = {
          path: program.opts<{ config?: string }>().config,
          overrides: {
            ...(opts.domain ? { domains: opts.domain } : {}),
            ...(opts.dataDir ? { data_dir: opts.dataDir } : {}),
          },
        };
        const config = loadConfig(loadOpts);
        const log = createLogger(config.log);
        const gateway = new Gateway(config, log);
        await gateway.start();
        await new Promise<void>((resolve) => {
          let stopping = false;
          const stop = (signal: string) => {
            if (stopping) return;
            stopping = true;
            log.info({ signal }, "stopping: draining connections");
            gateway
              .close()
              .then(() => log.info("stopped"))
              .catch((err) => {
                process.exitCode = fail(err);
              })
              .finally(() => {
                log.flush();
                resolve();
              });
          };
          process.on("SIGINT", () => stop("SIGINT"));
          process.on("SIGTERM", () => stop("SIGTERM"));
          process.on("SIGHUP", () => {
            log.info("SIGHUP: reloading configuration and policy");
            gateway.reload(loadOpts).catch((err) => log.error({ err: (err as Error).message }, "reload failed"));
          });
        });
      }),
    );
}
