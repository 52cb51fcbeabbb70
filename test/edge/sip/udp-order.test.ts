/**
 * MESSAGEs from one UDP source are one flow: they are delivered in the order
 * they arrived, as on a connection. Datagrams go in windows (the next window
 * after the last one's 200s) so a loopback receive buffer never overflows;
 * a window's datagrams are all in flight together, and compliance takes
 * longer over some of them (as a slow content check would), which is where
 * a flow per datagram lost their order.
 */
import { afterAll, describe, expect, it } from "vitest";
import { createSocket } from "node:dgram";
import type { Compliance } from "../../../src/model/route.js";
import { startEdge } from "./harness.js";
import { rawRequest } from "./raw-client.js";
import { until } from "../../helpers/wait.js";

const N = 2_000;
const WINDOW = 100;
/** Every seventh message waits a few milliseconds in compliance; the others pass at once. */
const unevenCompliance: Compliance = {
  async evaluate(e) {
    if (Number(e.body?.slice(1)) % 7 === 0) await new Promise((r) => setTimeout(r, 3));
    return { deliver: true, envelope: e, policyVersion: "t", verdicts: [] };
  },
};

const cleanups: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
});

describe("SIP over UDP", () => {
  it("keeps the order of one source's MESSAGEs", async () => {
    const h = await startEdge({
      address: "127.0.14.21",
      compliance: unevenCompliance,
      sip: { limits: { requests_per_second: 1_000_000, burst: 1_000_000 } },
      config: { federation: { mode: "open" } },
    });
    cleanups.push(() => h.close());
    const sock = createSocket("udp4");
    cleanups.push(async () => sock.close());
    await new Promise<void>((r) => sock.bind(0, "127.0.8.9", r));
    let oks = 0;
    sock.on("message", (m) => {
      if (m.toString("latin1").startsWith("SIP/2.0 200")) oks++;
    });
    const port = h.edge.ports.UDP!;
    for (let start = 1; start <= N; start += WINDOW) {
      for (let i = start; i < start + WINDOW; i++) {
        const datagram = rawRequest({ body: `m${i}` }).replace("SIP/2.0/TCP 127.0.8.9:5060", `SIP/2.0/UDP 127.0.8.9:${sock.address().port};rport`);
        sock.send(datagram, port, "127.0.14.21");
      }
      const want = start + WINDOW - 1;
      await until(() => oks >= want || undefined, 30_000, `200 OK for MESSAGEs up to ${want}`);
    }
    await until(() => h.recorder.delivered.length >= N || undefined, 30_000, "every MESSAGE delivered");
    const order = h.recorder.delivered.map((e) => Number(e.body!.slice(1)));
    expect(order).toEqual(Array.from({ length: N }, (_, i) => i + 1));
  }, 90_000);
});
