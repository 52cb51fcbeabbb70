/** Prometheus metrics: one registry per gateway, so tests can run several. */
import { collectDefaultMetrics, Registry } from "prom-client";

export function createMetrics(): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ app: "demarc" });
  collectDefaultMetrics({ register: registry, prefix: "demarc_" });
  return registry;
}
