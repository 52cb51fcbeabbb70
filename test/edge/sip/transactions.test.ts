import { describe, expect, it, vi } from "vitest";
import type { SipMessage } from "sip";
import { ClientTransactions, ServerTransactions, TransactionTimeout } from "../../../src/edge/sip/transactions.js";
import type { Flow } from "../../../src/edge/sip/flow.js";
import { request, response } from "../../../src/edge/sip/message.js";
import { AddressLimiter } from "../../../src/edge/sip/limits.js";

function fakeFlow(transport: "UDP" | "TCP"): Flow & { sent: SipMessage[] } {
  const sent: SipMessage[] = [];
  return { id: "f", transport, remoteAddress: "127.0.8.9", remotePort: 5060, local: { address: "127.0.8.1", port: 5060 }, closed: false, sent, send: (m) => sent.push(m), close() {} };
}

const rq = () =>
  request({ method: "MESSAGE", uri: "sip:a@b.test", from: { uri: "sip:c@d.test", params: { tag: "1" } }, to: { uri: "sip:a@b.test", params: {} }, callId: "x", cseq: 1, via: { protocol: "UDP", host: "127.0.8.1", port: 5060 }, body: "hi" });

describe("client transactions (RFC 3261 17.1.2)", () => {
  it("retransmits on UDP with Timer E doubling to T2 and times out at 64*T1 (Timer F)", async () => {
    const c = new ClientTransactions({ t1: 20, t2: 80 });
    const flow = fakeFlow("UDP");
    const started = Date.now();
    await expect(c.send(rq(), flow)).rejects.toBeInstanceOf(TransactionTimeout);
    expect(Date.now() - started).toBeGreaterThanOrEqual(64 * 20 - 5);
    // 20, 40, 80, 80, ... within 1280 ms: initial send + about 17 retransmissions.
    expect(flow.sent.length).toBeGreaterThan(10);
    expect(flow.sent.length).toBeLessThan(25);
  });

  it("after a 1xx on UDP, retransmits every T2 instead of doubling from where it was (Proceeding, 17.1.2.2)", () => {
    vi.useFakeTimers();
    try {
      const c = new ClientTransactions({ t1: 20, t2: 400 });
      const flow = fakeFlow("UDP");
      const m = rq();
      void c.send(m, flow).catch(() => undefined);
      vi.advanceTimersByTime(30); // sent at 0, again at 20
      expect(flow.sent).toHaveLength(2);
      c.onResponse(response(m, 100, "Trying"));
      // Already scheduled for 60; then T2 apart: 460, 860. Doubling would have sent at 140 and 300 too.
      vi.advanceTimersByTime(429); // t = 459
      expect(flow.sent).toHaveLength(3);
      vi.advanceTimersByTime(2); // t = 461
      expect(flow.sent).toHaveLength(4);
      vi.advanceTimersByTime(400); // t = 861
      expect(flow.sent).toHaveLength(5);
      c.onResponse(response(m, 200, "OK"));
      vi.advanceTimersByTime(1000);
      expect(flow.sent).toHaveLength(5);
    } finally {
      vi.useRealTimers();
    }
  });

  it("does not retransmit on TCP, ignores 1xx and completes on the final response", async () => {
    vi.useFakeTimers();
    try {
      const c = new ClientTransactions({ t1: 20, t2: 80 });
      const flow = fakeFlow("TCP");
      const m = rq();
      const p = c.send(m, flow);
      expect(c.onResponse(response(m, 100, "Trying"))).toBe(true);
      // Five T1 intervals: on UDP it would have retransmitted twice by now (at 20 and 60 ms).
      vi.advanceTimersByTime(100);
      expect(flow.sent).toHaveLength(1);
      c.onResponse(response(m, 202, "Accepted"));
      expect((await p).status).toBe(202);
      expect(c.onResponse(response(m, 200, "OK"))).toBe(false);
    } finally {
      vi.useRealTimers();
    }
  });

  it("fails a transaction at once when its connection closes", async () => {
    const c = new ClientTransactions({ t1: 500, t2: 4000 });
    const flow = fakeFlow("TCP");
    const p = c.send(rq(), flow);
    c.flowClosed(flow);
    await expect(p).rejects.toThrow(/connection closed/);
  });
});

describe("server transactions (RFC 3261 17.2.2)", () => {
  it("absorbs retransmissions and replays the final response", () => {
    const s = new ServerTransactions({ t1: 20, t2: 80 });
    const flow = fakeFlow("UDP");
    const m = rq();
    const respond = s.begin(m, flow)!;
    expect(s.begin(m, flow)).toBeUndefined(); // before any response: absorbed silently
    respond(response(m, 200, "OK"));
    expect(s.begin(m, flow)).toBeUndefined();
    expect(flow.sent.map((x) => x.status)).toEqual([200, 200]);
    s.clear();
  });
});

describe("per-address budget", () => {
  it("admits a burst, refuses beyond it, cuts a persistent flooder, and refills over time", () => {
    const l = new AddressLimiter({ perSecond: 10, burst: 5 });
    const t = 1_000_000;
    const got = Array.from({ length: 12 }, () => l.admit("a", t));
    expect(got.slice(0, 5)).toEqual(["ok", "ok", "ok", "ok", "ok"]);
    expect(got.slice(5, 10)).toEqual(["refuse", "refuse", "refuse", "refuse", "refuse"]);
    expect(got[11]).toBe("cut");
    expect(l.admit("b", t)).toBe("ok");
    expect(l.admit("a", t + 1000)).toBe("ok");
  });
});
