/**
 * Shared fakes for the pipeline tests: policy folders written from YAML
 * strings, envelopes, a logger that keeps its lines, and a router wired to
 * recording archive and delivery targets.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import type { Envelope } from "../../src/model/envelope.js";
import { CompliancePipeline } from "../../src/pipeline/pipeline.js";
import { loadPolicy, PolicyError } from "../../src/pipeline/policy/index.js";
import { Router } from "../../src/router/router.js";
import type { Decision } from "../../src/model/route.js";
import { Registry } from "prom-client";
import { loadConfig } from "../../src/config/load.js";
import type { GatewayContext } from "../../src/module.js";
import { complianceModule } from "../../src/pipeline/module.js";

export function policyDir(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), "demarc-policy-"));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

/** The problems a policy folder made of `files` is refused with, paths relative to the folder; fails if it loads. */
export function policyProblems(files: Record<string, string>): string[] {
  const dir = policyDir(files);
  try {
    loadPolicy(dir);
  } catch (err) {
    if (!(err instanceof PolicyError)) throw err;
    return err.problems.map((p) => p.replaceAll(`${dir}/`, ""));
  }
  throw new Error("expected the policy to be refused");
}

export function memoryLog(): { log: pino.Logger; lines: { level: number; msg: string; [k: string]: unknown }[] } {
  const lines: { level: number; msg: string }[] = [];
  const log = pino({ level: "debug" }, { write: (s: string) => void lines.push(JSON.parse(s)) });
  return { log, lines };
}

let seq = 0;
export function envelope(over: Partial<Envelope> = {}): Envelope {
  return {
    id: `m${++seq}`,
    receivedAt: Date.now(),
    direction: "outbound",
    protocol: "xmpp",
    kind: "message",
    from: "alice@corp.example/desk",
    to: "bob@partner.example",
    partnerDomain: "partner.example",
    type: "chat",
    body: "hello",
    ...over,
  };
}

export function pipelineFor(files: Record<string, string>): CompliancePipeline {
  const { set } = loadPolicy(policyDir(files));
  return new CompliancePipeline(set, { log: memoryLog().log });
}

/** A router with the pipeline in front of recording archive, internal and remote targets. */
export function wiredRouter(pipeline: CompliancePipeline) {
  const archived: { original: Envelope; decision: Decision }[] = [];
  const internal: Envelope[] = [];
  const remote: Envelope[] = [];
  const router = new Router({ log: memoryLog().log, protocolOf: () => "xmpp" });
  router.useCompliance(pipeline);
  router.useArchiver({ record: async (original, decision) => void archived.push({ original, decision }) });
  router.useInternal({ deliver: async (e) => void internal.push(e) });
  router.useRemote("xmpp", { deliver: async (e) => void remote.push(e) });
  return { router, archived, internal, remote };
}

/**
 * The compliance module started as the gateway starts it, on the config file
 * at `configPath`, in front of a router whose remote target records deliveries.
 */
export async function startComplianceModule(configPath: string) {
  const { log, lines } = memoryLog();
  const router = new Router({ log, protocolOf: () => "xmpp" });
  const delivered: Envelope[] = [];
  router.useRemote("xmpp", { deliver: async (e) => void delivered.push(e) });
  const ctx = {
    config: loadConfig({ path: configPath, env: {} }),
    log, metrics: new Registry(), router, readiness: new Map(), adminRoutes: [], adminApiRoutes: [],
  } as unknown as GatewayContext;
  const mod = complianceModule();
  await mod.start(ctx);
  return { ctx, mod, lines, delivered, pipeline: mod.pipeline! };
}
