/**
 * The all-hands burst end to end: every notification rendered by the c2s
 * session code (src/access/c2s/session.ts) and written to a real TCP socket
 * on loopback, one per user, until the clients at the other end have read
 * every byte. The floor: the same bytes, in the same writes, to the same
 * sockets with no logic at all, timed the same way.
 */
import { createServer, connect, type Socket, type AddressInfo } from "node:net";
import { pino } from "pino";
import { PresenceCore } from "../../src/core/core.js";
import { MemoryStore } from "../../src/core/store.js";
import type { RosterItem } from "../../src/core/types.js";
import { C2sSession } from "../../src/access/c2s/session.js";

const HOST = "127.0.62.1";
const jid = (i: number) => `user${i}@corp.test`;
const NO_GROUPS = Object.freeze([]) as unknown as string[];
const item = (contact: string): RosterItem => ({ jid: contact, groups: NO_GROUPS, subscription: "both", ask: false, pendingIn: false, approved: false, hidden: false });

function contactsOf(i: number, n: number, d: number): number[] {
  const out: number[] = [];
  for (let k = 1; k <= (d - 1) / 2; k++) out.push((i + k) % n, (i - k + n) % n);
  if (d % 2 === 1) out.push((i + n / 2) % n);
  return out;
}

/** n connected socket pairs: server ends to write to, and a byte count the client ends advance. */
async function socketPairs(n: number): Promise<{ servers: Socket[]; received: () => number; close(): void }> {
  const servers: Socket[] = [];
  const accepted: Socket[] = [];
  const server = createServer((s) => accepted.push(s));
  await new Promise<void>((r) => server.listen(0, HOST, r));
  const port = (server.address() as AddressInfo).port;
  let bytes = 0;
  const clients: Socket[] = [];
  for (let i = 0; i < n; i += 500) {
    await Promise.all(
      Array.from({ length: Math.min(500, n - i) }, () =>
        new Promise<void>((resolve, reject) => {
          const c = connect({ host: HOST, port }, () => resolve());
          c.on("data", (chunk: Buffer) => (bytes += chunk.length));
          c.once("error", reject);
          clients.push(c);
        }),
      ),
    );
  }
  while (accepted.length < n) await new Promise((r) => setTimeout(r, 10));
  servers.push(...accepted);
  for (const s of servers) s.setNoDelay(true);
  return {
    servers,
    received: () => bytes,
    close() {
      for (const s of [...servers, ...clients]) s.destroy();
      server.close();
    },
  };
}

async function until(done: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error("the clients did not read every byte in time");
    await new Promise((r) => setImmediate(r));
  }
}

export async function socketBurst(n: number, d: number): Promise<void> {
  const core = new PresenceCore({ domains: ["corp.test"], store: new MemoryStore(), limits: { maxContacts: d + 1, maxWatchers: d + 1 } });
  for (let i = 0; i < n; i++) core.users.adopt(jid(i), undefined, contactsOf(i, n, d).map((c) => item(jid(c))));
  const pairs = await socketPairs(n);
  const log = pino({ level: "silent" });
  let sent = 0;
  let recording = false;
  const writes: string[][] = Array.from({ length: n }, () => []);
  const sessions: C2sSession[] = [];
  for (let i = 0; i < n; i++) {
    const s = new C2sSession(`${jid(i)}/desk`, "corp.test", log, () => undefined);
    const sock = pairs.servers[i]!;
    const mine = writes[i]!;
    s.wire = {
      send(el) {
        const text = typeof el === "string" ? el : el.toString();
        if (recording) mine.push(text);
        sent += Buffer.byteLength(text);
        sock.write(text);
      },
      close() {},
    };
    s.core = await core.connect(jid(i), "desk", s);
    sessions.push(s);
  }
  for (const s of sessions) await s.core.presence({ state: "available" }, 0);
  await until(() => pairs.received() >= sent, 120_000);

  const start = pairs.received();
  sent = start;
  recording = true;
  const t0 = performance.now();
  for (const s of sessions) await s.core.presence({ state: "in-a-meeting", note: "All hands" }, 0);
  await until(() => pairs.received() >= sent, 120_000);
  const ms = performance.now() - t0;
  recording = false;
  const burstBytes = sent - start;
  const stanzas = writes.reduce((k, w) => k + w.length, 0);

  // The floor: the same writes to the same sockets, no core, no rendering.
  const floorStart = pairs.received();
  const f0 = performance.now();
  for (let i = 0; i < n; i++) {
    const sock = pairs.servers[i]!;
    for (const text of writes[i]!) sock.write(text);
  }
  await until(() => pairs.received() - floorStart >= burstBytes, 120_000);
  const floorMs = performance.now() - f0;
  pairs.close();
  console.log(`all-hands burst to ${n.toLocaleString("en")} real c2s sockets on loopback (TCP, session rendering, no TLS):`);
  console.log(`  ${stanzas.toLocaleString("en")} presence stanzas, ${(burstBytes / 1024 / 1024).toFixed(0)} MB, read by the clients in ${ms.toFixed(0)} ms = ${Math.round(stanzas / (ms / 1000)).toLocaleString("en")} stanzas/s`);
  console.log(`  floor (the same bytes in the same writes, no logic): ${floorMs.toFixed(0)} ms; the core and rendering cost ${(ms / floorMs).toFixed(2)}x the floor`);
}
