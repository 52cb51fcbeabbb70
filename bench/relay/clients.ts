/**
 * The clients at either end of a relay run: real @xmpp/client users logged in
 * to Prosody, ejabberd or demarc over STARTTLS with the test CA, a sender that
 * writes numbered messages as fast as its server takes them, and a receiver
 * that counts them (and checks their order) without keeping them.
 */
// @ts-ignore -- @xmpp/client ships no type declarations
import { client, xml } from "@xmpp/client";
import type { Element } from "../../src/xmpp/xml.js";

export interface BenchClient {
  jid: string;
  /** Messages of a run received so far, and whether they came in order. */
  count(run: string): { n: number; inOrder: boolean; firstGap?: string | undefined };
  /** Resolves when n messages of the run arrived, or rejects after timeoutMs. */
  waitFor(run: string, n: number, timeoutMs: number): Promise<void>;
  sendRun(run: string, to: string, n: number): Promise<void>;
  stop(): Promise<void>;
}

export interface Endpoint {
  address: string;
  port: number;
  domain: string;
}

interface Tally {
  n: number;
  inOrder: boolean;
  firstGap?: string | undefined;
  waiters: Array<{ n: number; done: () => void }>;
}

const SEND_BATCH = 200;

export async function benchClient(at: Endpoint, username: string, password: string): Promise<BenchClient> {
  const xmpp = client({ service: `xmpp://${at.address}:${at.port}`, domain: at.domain, username, password, resource: "bench" });
  xmpp.on("error", () => undefined);
  const tallies = new Map<string, Tally>();
  const tally = (run: string) => {
    let t = tallies.get(run);
    if (!t) tallies.set(run, (t = { n: 0, inOrder: true, waiters: [] }));
    return t;
  };
  xmpp.on("stanza", (el: Element) => {
    if (el.name !== "message") return;
    // A policy may add a disclaimer after the number: read only "run-number" at the start.
    const m = /^(\S+)-(\d+)/.exec(el.getChildText("body") ?? "");
    if (!m) return;
    const t = tally(m[1]!);
    t.n++;
    if (Number(m[2]) !== t.n && t.inOrder) {
      t.inOrder = false;
      t.firstGap = `expected ${t.n}, got ${m[2]}`;
    }
    for (const w of t.waiters.filter((w) => t.n >= w.n)) w.done();
    t.waiters = t.waiters.filter((w) => t.n < w.n);
  });
  const address = await xmpp.start();
  await xmpp.send(xml("presence"));
  return {
    jid: String(address),
    count: (run) => ({ n: tally(run).n, inOrder: tally(run).inOrder, firstGap: tally(run).firstGap }),
    waitFor(run, n, timeoutMs) {
      const t = tally(run);
      if (t.n >= n) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${run}: ${t.n} of ${n} messages arrived within ${timeoutMs} ms`)), timeoutMs);
        t.waiters.push({ n, done: () => (clearTimeout(timer), resolve()) });
      });
    },
    async sendRun(run, to, n) {
      for (let i = 1; i <= n; i += SEND_BATCH) {
        const batch: Promise<void>[] = [];
        for (let k = i; k < i + SEND_BATCH && k <= n; k++) {
          batch.push(xmpp.send(xml("message", { to, type: "chat", id: `${run}-${k}` }, xml("body", {}, `${run}-${k}`))));
        }
        await Promise.all(batch);
      }
    },
    async stop() {
      await xmpp.stop().catch(() => undefined);
    },
  };
}

/** One relay run: sender writes n numbered messages, the time is until the receiver has them all. */
export async function relayRun(from: BenchClient, to: BenchClient, run: string, n: number): Promise<{ seconds: number; rate: number; inOrder: boolean; firstGap?: string | undefined }> {
  const t0 = performance.now();
  const arrived = to.waitFor(run, n, Math.max(60_000, n * 20));
  await from.sendRun(run, to.jid.split("/")[0]!, n);
  await arrived;
  const seconds = (performance.now() - t0) / 1000;
  const { inOrder, firstGap } = to.count(run);
  return { seconds, rate: n / seconds, inOrder, firstGap };
}
