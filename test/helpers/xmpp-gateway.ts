/**
 * An in-process gateway for s2s tests (test/helpers/gateway.ts): the TLS
 * module, the s2s module, and a recorder standing in for the presence core
 * (it records what the router delivered, and can refuse).
 */
import type { Gateway } from "../../src/gateway/gateway.js";
import type { GatewayContext } from "../../src/module.js";
import { tlsModule } from "../../src/tls/module.js";
import { s2sModule, type S2sModule } from "../../src/edge/xmpp/module.js";
import type { Envelope } from "../../src/model/envelope.js";
import type { RouteResult } from "../../src/model/route.js";
import { Recorder, gatewayDir, startGateway, type LogRecord } from "./gateway.js";

export { Recorder as Sink } from "./gateway.js";

export interface TestGateway {
  gateway: Gateway;
  ctx: GatewayContext;
  sink: Recorder;
  s2s: S2sModule;
  logs: LogRecord[];
  route(e: Partial<Envelope> & Pick<Envelope, "from" | "to" | "kind">): Promise<RouteResult>;
  /** Inbound s2s streams open now, as the gateway's metrics count them (a stream's close is when it has handled all it got). */
  inboundStreams(): Promise<number>;
  /** Reloads as SIGHUP does, with these settings over the starting ones. */
  reload(changes: Record<string, unknown>): Promise<void>;
  close(): Promise<void>;
}

export async function startTestGateway(settings: Record<string, unknown>): Promise<TestGateway> {
  const dir = gatewayDir("demarc-s2s-");
  const sink = new Recorder();
  const tls = tlsModule();
  const s2s = s2sModule(tls);
  const { gateway, ctx, logs, reload } = await startGateway({
    dir,
    settings: { archive: { url: "sqlite:archive.db" }, ...settings },
    modules: [tls, sink.module(), s2s],
    logLevel: "debug",
  });
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
    reload,
    inboundStreams: async () => (await ctx.metrics.getSingleMetric("demarc_s2s_inbound_streams")!.get()).values[0]?.value ?? 0,
    close: () => gateway.close(),
  };
}
