/**
 * An in-process gateway for s2s tests: the real Gateway with the TLS module,
 * the s2s module, and a sink standing in for the presence core (it records
 * what the router delivered, and can refuse).
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { configSchema } from "../../src/config/schema.js";
import type { LoadedConfig } from "../../src/config/load.js";
import { Gateway } from "../../src/gateway/gateway.js";
import type { GatewayContext, GatewayModule } from "../../src/module.js";
import { tlsModule } from "../../src/tls/module.js";
import { s2sModule, type S2sModule } from "../../src/edge/xmpp/module.js";
import type { Envelope } from "../../src/model/envelope.js";
import type { DeliveryError, RouteResult } from "../../src/model/route.js";
import { DeliveryFailure } from "../../src/model/route.js";
import { Changes } from "./wait.js";

export class Sink {
  readonly delivered: Envelope[] = [];
  /** When set, deliveries are refused with this error. */
  refuse: ((e: Envelope) => DeliveryError | undefined) | undefined;

  private readonly changes = new Changes();

  async deliver(e: Envelope): Promise<void> {
    const err = this.refuse?.(e);
    if (err) throw new DeliveryFailure(err);
    this.delivered.push(e);
    this.changes.notify();
  }

  waitFor(match: (e: Envelope) => boolean, timeoutMs = 10_000): Promise<Envelope> {
    return this.changes.until(() => this.delivered.find(match), timeoutMs, () => `no matching delivery; got ${JSON.stringify(this.delivered.map((d) => [d.kind, d.from, d.to]))}`);
  }
}

export interface TestGateway {
  gateway: Gateway;
  ctx: GatewayContext;
  sink: Sink;
  s2s: S2sModule;
  logs: Record<string, unknown>[];
  route(e: Partial<Envelope> & Pick<Envelope, "from" | "to" | "kind">): Promise<RouteResult>;
  /** Inbound s2s streams open now, as the gateway's metrics count them (a stream's close is when it has handled all it got). */
  inboundStreams(): Promise<number>;
  close(): Promise<void>;
}

export async function startTestGateway(settings: Record<string, unknown>): Promise<TestGateway> {
  const dir = mkdtempSync(join(tmpdir(), "demarc-s2s-"));
  const parsed = configSchema.parse({ data_dir: join(dir, "data"), archive: { url: "sqlite:archive.db" }, ...settings });
  const config: LoadedConfig = { ...parsed, baseDir: dir, source: undefined };
  const logs: Record<string, unknown>[] = [];
  const log = pino(
    { level: process.env.DEMARC_TEST_LOG ?? "debug" },
    {
      write(line: string) {
        const l = JSON.parse(line) as Record<string, unknown>;
        if (logs.length < 5_000) logs.push(l);
        if (process.env.DEMARC_TEST_LOG) process.stderr.write(line);
      },
    },
  );
  const sink = new Sink();
  const sinkModule: GatewayModule = {
    name: "test-sink",
    async start(ctx) {
      ctx.router.useInternal(sink);
    },
    async stop() {},
  };
  const tls = tlsModule();
  const s2s = s2sModule(tls);
  const gateway = new Gateway(config, log, [tls, sinkModule, s2s]);
  await gateway.start();
  const ctx = gateway.context;
  let n = 0;
  return {
    gateway,
    ctx,
    sink,
    s2s,
    logs,
    route: (e) =>
      ctx.router.route({
        id: `test-${++n}`,
        receivedAt: Date.now(),
        direction: "outbound",
        protocol: "internal",
        partnerDomain: e.to.split("@").pop()!.split("/")[0],
        ...e,
      }),
    inboundStreams: async () => (await ctx.metrics.getSingleMetric("demarc_s2s_inbound_streams")!.get()).values[0]?.value ?? 0,
    close: () => gateway.close(),
  };
}
