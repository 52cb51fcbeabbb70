/** Prometheus figures of the component links (split mode, edge side). */
import { Counter, Gauge, type Registry } from "prom-client";

export interface ComponentMetrics {
  stanzas: Counter<"direction" | "result">;
  online: Gauge;
}

export function componentMetrics(registry: Registry): ComponentMetrics {
  return {
    stanzas: new Counter({ name: "demarc_component_stanzas_total", help: "Stanzas over component streams by direction and result", labelNames: ["direction", "result"], registers: [registry] }),
    online: new Gauge({ name: "demarc_component_links_online", help: "Component streams to internal servers that are online", registers: [registry] }),
  };
}
