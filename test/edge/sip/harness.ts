/**
 * Runs the SIP edge in-process inside the real Gateway (database, certificates,
 * trust and resolver from the tls module), with a recording internal target
 * in place of the core, and a test CA issuing every certificate.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { configSchema } from "../../../src/config/schema.js";
import type { LoadedConfig } from "../../../src/config/load.js";
import { Gateway } from "../../../src/gateway/gateway.js";
import type { GatewayContext, GatewayModule } from "../../../src/module.js";
import { tlsModule } from "../../../src/tls/module.js";
import { sipModule } from "../../../src/edge/sip/module.js";
import type { SipEdge } from "../../../src/edge/sip/edge.js";
import type { WatcherDirectory } from "../../../src/edge/sip/watchers.js";
import { createLogger } from "../../../src/log.js";
import type { Envelope } from "../../../src/model/envelope.js";
import { DeliveryFailure, type Compliance, type DeliveryError } from "../../../src/model/route.js";
import { createTestCa, type TestCa } from "../../helpers/ca.js";

export interface Recorder {
  delivered: Envelope[];
  /** When set, the internal target refuses with this error. */
  refuse?: DeliveryError | undefined;
}

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
  const dir = mkdtempSync(join(tmpdir(), "demarc-sip-"));
  const ca = o.ca ?? createTestCa(join(dir, "ca"));
  const ours = ca.issue({ name: "corp", domains: ["corp.test"] });
  const raw = configSchema.parse({
    domains: ["corp.test"],
    data_dir: join(dir, "data"),
    log: { level: process.env.DEMARC_TEST_LOG ?? "silent", format: "json" },
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
  });
  const config: LoadedConfig = { ...raw, baseDir: dir };
  const recorder: Recorder = { delivered: [] };
  const internal: GatewayModule = {
    name: "test-internal",
    async start(ctx) {
      if (o.compliance) ctx.router.useCompliance(o.compliance);
      if (o.internal) o.internal(ctx, recorder);
      else
        ctx.router.useInternal({
          async deliver(e) {
            if (recorder.refuse) throw new DeliveryFailure(recorder.refuse);
            recorder.delivered.push(e);
          },
        });
    },
    async stop() {},
  };
  const tls = tlsModule();
  const sip = sipModule({ trust: tls.trust, resolver: tls.resolver, watchers: o.watchers });
  const log = createLogger({ level: config.log.level, format: "json" });
  const gateway = new Gateway(config, log, [tls, internal, sip]);
  await gateway.start();
  return {
    gateway,
    ctx: gateway.context,
    edge: sip.edge!,
    ca,
    dir,
    recorder,
    close: () => gateway.close(),
  };
}

