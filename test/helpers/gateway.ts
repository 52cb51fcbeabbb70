/**
 * The suite's in-process gateway: the real Gateway on a temporary folder,
 * config parsed by the real schema, its log lines kept for assertions, and
 * (when a test wants one) a recorder standing in for the internal target.
 * The s2s, SIP and c2s benches, and the console's, are this with their own
 * settings and modules.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino, type Logger } from "pino";
import { configSchema } from "../../src/config/schema.js";
import type { LoadedConfig } from "../../src/config/load.js";
import { Gateway } from "../../src/gateway/gateway.js";
import type { GatewayContext, GatewayModule } from "../../src/module.js";
import type { Envelope } from "../../src/model/envelope.js";
import { DeliveryFailure, type DeliveryError } from "../../src/model/route.js";
import { Changes } from "./wait.js";

export type LogRecord = Record<string, unknown>;

/** An internal delivery target that records what the router delivered, and can refuse. */
export class Recorder {
  readonly delivered: Envelope[] = [];
  /** When set, deliveries it answers for are refused with that error. */
  refuse: ((e: Envelope) => DeliveryError | undefined) | undefined;
  private readonly changes = new Changes();

  async deliver(e: Envelope): Promise<void> {
    const err = this.refuse?.(e);
    if (err) throw new DeliveryFailure(err);
    this.delivered.push(e);
    this.changes.notify();
  }

  waitFor(match: (e: Envelope) => boolean, timeoutMs = 10_000): Promise<Envelope> {
    // Each change looks only at deliveries not yet looked at: a bench waiting for the last of
    // 20,000 would otherwise scan the whole list on every delivery.
    let seen = 0;
    const next = (): Envelope | undefined => {
      if (seen > this.delivered.length) seen = 0;
      for (; seen < this.delivered.length; seen++) if (match(this.delivered[seen]!)) return this.delivered[seen];
      return undefined;
    };
    return this.changes.until(next, timeoutMs, () => `no matching delivery; got ${JSON.stringify(this.delivered.map((d) => [d.kind, d.from, d.to]))}`);
  }

  /** A module that makes this recorder the router's internal target (`also` wires more at start). */
  module(also?: (ctx: GatewayContext) => void): GatewayModule {
    return {
      name: "test-recorder",
      start: async (ctx) => {
        ctx.router.useInternal(this);
        also?.(ctx);
      },
      async stop() {},
    };
  }
}

export interface GatewayOptions {
  /** Settings as in demarc.yaml; data_dir defaults to `<dir>/data`. */
  settings: Record<string, unknown>;
  /** The modules, in start order; a function gets the folder (for certificates, policy files). */
  modules: GatewayModule[];
  /** The working folder (default: a new temporary one, removed on close). */
  dir?: string;
  /** Log level kept in `logs` (default: the settings' log.level, else silent); DEMARC_TEST_LOG overrides and echoes to stderr. */
  logLevel?: string;
}

export interface InProcessGateway {
  gateway: Gateway;
  ctx: GatewayContext;
  config: LoadedConfig;
  dir: string;
  logs: LogRecord[];
  /** A reload as SIGHUP does it (the federation view swapped, every module told), with these settings over the starting ones. */
  reload(changes: Record<string, unknown>): Promise<void>;
  close(): Promise<void>;
}

/** A new temporary folder for a gateway's files. */
export function gatewayDir(prefix = "demarc-gw-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

function captureLog(level: string, logs: LogRecord[]): Logger {
  const echo = Boolean(process.env.DEMARC_TEST_LOG);
  return pino(
    { level: process.env.DEMARC_TEST_LOG ?? level },
    {
      write(line: string) {
        if (logs.length < 5_000) logs.push(JSON.parse(line) as LogRecord);
        if (echo) process.stderr.write(line);
      },
    },
  );
}

export async function startGateway(o: GatewayOptions): Promise<InProcessGateway> {
  const owned = o.dir === undefined;
  const dir = o.dir ?? gatewayDir();
  const raw = { data_dir: join(dir, "data"), ...o.settings };
  const parsed = configSchema.parse(raw);
  const config: LoadedConfig = { ...parsed, baseDir: dir, source: undefined };
  const logs: LogRecord[] = [];
  const gateway = new Gateway(config, captureLog(o.logLevel ?? parsed.log.level ?? "silent", logs), o.modules);
  await gateway.start();
  return {
    gateway,
    ctx: gateway.context,
    config,
    dir,
    logs,
    async reload(changes) {
      await gateway.reload({ env: {}, overrides: { ...raw, ...changes } });
      // Relative paths stay relative to the test's folder, as at start.
      gateway.context.config.baseDir = dir;
    },
    async close() {
      await gateway.close();
      if (owned) rmSync(dir, { recursive: true, force: true });
    },
  };
}
