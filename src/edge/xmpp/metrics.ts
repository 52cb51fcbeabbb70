/** Prometheus figures of the s2s edge. */
import { Counter, Gauge, type Registry } from "prom-client";

/**
 * Stanzas counted as plain numbers and added to the counter when it is read
 * (a scrape): prom-client builds a label hash string and a result object on
 * every inc(), which is garbage for each stanza relayed.
 */
export interface StanzaCounts {
  sent: number;
  delivered: number;
  refused: number;
}

export interface S2sMetrics {
  stanzas: Counter<"direction" | "result">;
  /** What goes into `stanzas` at the next read. */
  counts: StanzaCounts;
  streamErrors: Counter<"condition">;
  inboundStreams: Gauge;
}

export function s2sMetrics(registry: Registry): S2sMetrics {
  const counts: StanzaCounts = { sent: 0, delivered: 0, refused: 0 };
  const stanzas = new Counter({
    name: "demarc_s2s_stanzas_total",
    help: "Stanzas over s2s by direction and result",
    labelNames: ["direction", "result"],
    registers: [registry],
    collect() {
      if (counts.sent > 0) this.inc({ direction: "outbound", result: "sent" }, counts.sent);
      if (counts.delivered > 0) this.inc({ direction: "inbound", result: "delivered" }, counts.delivered);
      if (counts.refused > 0) this.inc({ direction: "inbound", result: "refused" }, counts.refused);
      counts.sent = counts.delivered = counts.refused = 0;
    },
  });
  return {
    stanzas,
    counts,
    streamErrors: new Counter({ name: "demarc_s2s_stream_errors_total", help: "Stream errors sent or received, by condition", labelNames: ["condition"], registers: [registry] }),
    inboundStreams: new Gauge({ name: "demarc_s2s_inbound_streams", help: "Open inbound s2s streams", registers: [registry] }),
  };
}
