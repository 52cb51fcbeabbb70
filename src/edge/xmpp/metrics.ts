/** Prometheus figures of the s2s edge. */
import { Counter, Gauge, type Registry } from "prom-client";

export interface S2sMetrics {
  stanzas: Counter<"direction" | "result">;
  streamErrors: Counter<"condition">;
  inboundStreams: Gauge;
}

export function s2sMetrics(registry: Registry): S2sMetrics {
  return {
    stanzas: new Counter({ name: "demarc_s2s_stanzas_total", help: "Stanzas over s2s by direction and result", labelNames: ["direction", "result"], registers: [registry] }),
    streamErrors: new Counter({ name: "demarc_s2s_stream_errors_total", help: "Stream errors sent or received, by condition", labelNames: ["condition"], registers: [registry] }),
    inboundStreams: new Gauge({ name: "demarc_s2s_inbound_streams", help: "Open inbound s2s streams", registers: [registry] }),
  };
}
