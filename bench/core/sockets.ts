/**
 * The all-hands burst end to end: every notification rendered by the c2s
 * session code (src/access/c2s/session.ts) and written to a real TCP socket
 * on loopback, one per user, until the clients at the other end have read
 * every byte. The floor: the same bytes to the same sockets with no logic at
 * all, timed the same way. Run twice: one write per stanza (how sessions
 * wrote before), and batched per socket for the round as c2s connections
 * write now, each against its floor.
 */
import { createServer, connect, type Socket, type AddressInfo } from "node:net";
import { pino } from "pino";
import { PresenceCore } from "../../src/core/core.js";
import { MemoryStore } from "../../src/core/store.js";
import type { RosterItem } from "../../src/core/types.js";
import { C2sSession } from "../../src/access/c2s/session.js";
import { batchedWrite } from "../../src/xmpp/write-batch.js";
import type { RichPresence } from "../../src/model/presence.js";

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

/** How a session's stanzas reach its socket: one write each, or held for the round (src/xmpp/write-batch.ts). */
type WriteMode = "per-stanza" | "batched";

export async function socketBurst(n: number, d: number): Promise<void> {
  const core = new PresenceCore({ domains: ["corp.test"], store: new MemoryStore(), limits: { maxContacts: d + 1, maxWatchers: d + 1 } });
  for (let i = 0; i < n; i++) core.users.adopt(jid(i), undefined, contactsOf(i, n, d).map((c) => item(jid(c))));
  const pairs = await socketPairs(n);
  const log = pino({ level: "silent" });
  let sent = 0;
  let recording = false;
  let mode: WriteMode = "per-stanza";
  let writes: string[][] = [];
  const sessions: C2sSession[] = [];
  for (let i = 0; i < n; i++) {
    const s = new C2sSession(`${jid(i)}/desk`, "corp.test", log, () => undefined);
    const sock = pairs.servers[i]!;
    s.wire = {
      send(el) {
        const text = typeof el === "string" ? el : el.toString();
        if (recording) writes[i]!.push(text);
        sent += Buffer.byteLength(text);
        if (mode === "batched") batchedWrite(sock, text);
        else sock.write(text);
      },
      close() {},
    };
    s.core = await core.connect(jid(i), "desk", s);
    sessions.push(s);
  }
  for (const s of sessions) await s.core.presence({ state: "available" }, 0);
  await until(() => pairs.received() >= sent, 120_000);

  /** One burst: every user changes state; timed until the clients have read every byte. */
  const burst = async (how: WriteMode, presence: RichPresence) => {
    mode = how;
    writes = Array.from({ length: n }, () => []);
    const start = pairs.received();
    sent = start;
    recording = true;
    const t0 = performance.now();
    for (const s of sessions) await s.core.presence(presence, 0);
    await until(() => pairs.received() >= sent, 120_000);
    recording = false;
    return { ms: performance.now() - t0, bytes: sent - start, stanzas: writes.reduce((k, w) => k + w.length, 0), writes };
  };
  /** The floor: the same bytes to the same sockets with no core and no rendering, per stanza or all at once. */
  const floor = async (recorded: string[][], joined: boolean, bytes: number) => {
    const from = pairs.received();
    const f0 = performance.now();
    for (let i = 0; i < n; i++) {
      const sock = pairs.servers[i]!;
      if (joined) sock.write(recorded[i]!.join(""));
      else for (const text of recorded[i]!) sock.write(text);
    }
    await until(() => pairs.received() - from >= bytes, 120_000);
    return performance.now() - f0;
  };

  const before = await burst("per-stanza", { state: "in-a-meeting", note: "All hands" });
  const beforeFloor = await floor(before.writes, false, before.bytes);
  const after = await burst("batched", { state: "available", note: "All hands over" });
  const afterFloor = await floor(after.writes, true, after.bytes);
  pairs.close();
  const rate = (r: { ms: number; stanzas: number }) => Math.round(r.stanzas / (r.ms / 1000)).toLocaleString("en");
  console.log(`all-hands burst to ${n.toLocaleString("en")} real c2s sockets on loopback (TCP, session rendering, no TLS), twice in one run:`);
  console.log(`  one write per stanza:       ${before.stanzas.toLocaleString("en")} stanzas, ${(before.bytes / 1024 / 1024).toFixed(0)} MB in ${before.ms.toFixed(0)} ms = ${rate(before)} stanzas/s; floor (same writes, no logic) ${beforeFloor.toFixed(0)} ms: ${(before.ms / beforeFloor).toFixed(2)}x`);
  console.log(`  batched per socket a round: ${after.stanzas.toLocaleString("en")} stanzas, ${(after.bytes / 1024 / 1024).toFixed(0)} MB in ${after.ms.toFixed(0)} ms = ${rate(after)} stanzas/s; floor (same bytes, one write a socket) ${afterFloor.toFixed(0)} ms: ${(after.ms / afterFloor).toFixed(2)}x`);
  console.log(`  batched against one write per stanza's floor: ${(after.ms / beforeFloor).toFixed(2)}x`);
}
