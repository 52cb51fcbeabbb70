/**
 * Runs the SIP edge in-process inside the real Gateway (test/helpers/gateway.ts;
 * database, certificates, trust and resolver from the tls module), with a
 * recording internal target in place of the core, and a test CA issuing
 * every certificate.
 */
import { join } from "node:path";
import type { Gateway } from "../../../src/gateway/gateway.js";
import type { GatewayContext, GatewayModule } from "../../../src/module.js";
import { tlsModule } from "../../../src/tls/module.js";
import { sipModule } from "../../../src/edge/sip/module.js";
import { PresenceStates } from "../../../src/mapping/state-map.js";
import type { SipEdge } from "../../../src/edge/sip/edge.js";
import type { WatcherDirectory } from "../../../src/edge/sip/watchers.js";
import type { Compliance } from "../../../src/model/route.js";
import { createTestCa, type TestCa } from "../../helpers/ca.js";
import { Recorder, gatewayDir, startGateway } from "../../helpers/gateway.js";

export { Recorder };
export interface EdgeHarness {
  gateway: Gateway;
  ctx: GatewayContext;
  edge: SipEdge;
  ca: TestCa;
  dir: string;
  recorder: Recorder;
  close(): Promise<void>;
}

export interface HarnessOptions {
  address: string;
  sip?: Record<string, unknown>;
  partners?: Record<string, unknown>[];
  dnsServer?: string;
  compliance?: Compliance;
  /** Extra modules after the SIP edge (e.g. the real core). */
  internal?: (ctx: GatewayContext, recorder: Recorder) => void;
  /** Who watches hosted users' presence, for PUBLISH (the core in the full gateway). */
  watchers?: () => WatcherDirectory | undefined;
  ca?: TestCa;
  /** Other top-level settings (federation, ...). */
  config?: Record<string, unknown>;
}

export async function startEdge(o: HarnessOptions): Promise<EdgeHarness> {
  const dir = gatewayDir("demarc-sip-");
  const ca = o.ca ?? createTestCa(join(dir, "ca"));
  const ours = ca.issue({ name: "corp", domains: ["corp.test"] });
  const settings = {
    domains: ["corp.test"],
    data_dir: join(dir, "data"),
    log: { level: "silent", format: "json" },
    tls: { dir: join(dir, "certs"), certificates: [{ cert: ours.certPath, key: ours.keyPath }], trust: { system: false, ca_files: [ca.certPath] } },
    dns: { servers: o.dnsServer ? [o.dnsServer] : ["127.0.8.250:53"], timeout_ms: 500 },
    partners: o.partners ?? [],
    sip: {
      tls: { enabled: true, host: o.address, port: 0 },
      tcp: { enabled: true, host: o.address, port: 0 },
      udp: { enabled: true, host: o.address, port: 0 },
      trust_plain_transports: true,
      timers: { t1_ms: 100, t2_ms: 400 },
      ...(o.sip ?? {}),
    },
    ...(o.config ?? {}),
  };
  const recorder = new Recorder();
  const compliance = (ctx: GatewayContext) => {
    if (o.compliance) ctx.router.useCompliance(o.compliance);
  };
  const internal: GatewayModule = o.internal
    ? {
        name: "test-internal",
        async start(ctx) {
          compliance(ctx);
          o.internal!(ctx, recorder);
        },
        async stop() {},
      }
    : recorder.module(compliance);
  const tls = tlsModule();
  const sip = sipModule({ trust: tls.trust, resolver: tls.resolver, watchers: o.watchers, states: new PresenceStates() });
  const { gateway, ctx } = await startGateway({ dir, settings, modules: [tls, internal, sip] });
  return {
    gateway,
    ctx,
    edge: sip.edge!,
    ca,
    dir,
    recorder,
    close: () => gateway.close(),
  };
}
