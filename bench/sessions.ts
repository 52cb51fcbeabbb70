/**
 * bench:sessions - memory per idle authenticated c2s session: N clients log
 * in (STARTTLS, SASL PLAIN, bind, presence) and stay idle, first to demarc
 * (its own process, the relay benchmark's configuration), then to Prosody
 * where installed, one server at a time with the same client. Prints the RSS
 * growth per session for both, and for demarc how much of it was its JS heap
 * and its young generation, which the gateway lets V8 grow to 2 x 64 MB under
 * allocation (npm start's --max-semi-space-size): a bounded cost of the
 * process that a few thousand logins reach, not one per session. Then N more
 * sessions on top of those: their growth per session is the marginal cost,
 * the one that scales to tens of thousands of users. The same two figures for
 * idle connections to a bare Node TLS server: Node's floor.
 *
 *   npm run bench:sessions -- [--sessions 2000]
 *
 * Starts real peers on fixed loopback addresses: run it under the shared peer lock.
 */
import { execFileSync, spawn } from "node:child_process";
import { connect as tlsConnect, type TLSSocket } from "node:tls";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { createTestCa, type TestCa } from "../test/helpers/ca.js";
import { startDnsServer } from "../test/helpers/dns-server.js";
import { startProsody } from "../test/helpers/prosody.js";
import { openIdleSession, type IdleSession } from "./sessions/idle-client.js";
import { memoryMb } from "./relay/proc.js";
import { ADDR, PASSWORD, PORT, demarcConfig, startDemarc, stopByPid } from "./relay/setup.js";

const { values } = parseArgs({ options: { sessions: { type: "string", default: "2000" } } });
const N = Number(values.sessions);
const CONCURRENCY = 40;
const WARM = 20;
const users = Array.from({ length: 2 * N + WARM }, (_, i) => `u${i + 1}`);

async function openMany(o: { address: string; port: number; domain: string; ca: TestCa }, names: string[]): Promise<IdleSession[]> {
  const out: IdleSession[] = [];
  for (let i = 0; i < names.length; i += CONCURRENCY) {
    out.push(...(await Promise.all(names.slice(i, i + CONCURRENCY).map((user) => openIdleSession({ ...o, user, password: PASSWORD, ca: o.ca.certPem })))));
  }
  return out;
}

/** RSS growth in MB as kB per session. */
const kbRaw = (mb: number) => (mb * 1024) / N;

const settle = () => new Promise((r) => setTimeout(r, 3_000));

async function metric(name: string): Promise<number> {
  const text = await fetch(`http://${ADDR.demarc}:${PORT.admin}/metrics`).then((r) => r.text());
  return Number(new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.e+-]+)`, "m").exec(text)?.[1] ?? NaN);
}

/** The young generation's committed size: V8 grows it with the allocation rate, up to the gateway's --max-semi-space-size. */
async function youngGeneration(): Promise<number> {
  const text = await fetch(`http://${ADDR.demarc}:${PORT.admin}/metrics`).then((r) => r.text());
  return Number(/^demarc_nodejs_heap_space_size_total_bytes\{[^}]*space="new"[^}]*\} ([0-9.e+-]+)/m.exec(text)?.[1] ?? NaN);
}

/** RSS (and for demarc the heap) before and after N idle sessions. */
async function measure(label: string, pid: number, at: { address: string; port: number; domain: string; ca: TestCa }, heap: boolean): Promise<{ kb: number; marginal: number }> {
  // Warm-up: the code paths and caches of a login are paid once, not per session.
  const warm = await openMany(at, users.slice(N, N + WARM));
  await settle();
  const before = memoryMb(pid).rss;
  const heapBefore = heap ? await metric("demarc_nodejs_heap_size_used_bytes") : 0;
  const externalBefore = heap ? await metric("demarc_nodejs_external_memory_bytes") : 0;
  const youngBefore = heap ? await youngGeneration() : 0;
  const t0 = performance.now();
  const sessions = await openMany(at, users.slice(0, N));
  const seconds = (performance.now() - t0) / 1000;
  await settle();
  const after = memoryMb(pid).rss;
  const kb = kbRaw(after - before);
  let detail = "";
  if (heap) {
    // Read before the next N: these are the first N's. The young generation grows with the logins' allocation rate, not with the sessions held.
    const dh = ((await metric("demarc_nodejs_heap_size_used_bytes")) - heapBefore) / 1024 / N;
    const de = ((await metric("demarc_nodejs_external_memory_bytes")) - externalBefore) / 1024 / N;
    const young = ((await youngGeneration()) - youngBefore) / 1024 / 1024;
    detail = `  (JS heap in use ${dh.toFixed(1)} kB, garbage not yet collected included; external ${de.toFixed(1)} kB; the young generation grew ${young.toFixed(0)} MB of it)`;
  }
  console.log(`${label.padEnd(8)} ${N} idle sessions in ${seconds.toFixed(1)} s: RSS ${before.toFixed(0)} -> ${after.toFixed(0)} MB, ${kb.toFixed(1)} kB/session${detail}`);
  // A second N on top: what one more session costs once the process's own growth (heap spaces, pools) is paid.
  const more = await openMany(at, users.slice(N + WARM, 2 * N + WARM));
  await settle();
  const marginal = kbRaw(memoryMb(pid).rss - after);
  console.log(`${"".padEnd(8)} ${N} more on top: ${marginal.toFixed(1)} kB/session (the marginal cost, what each of many thousands more would take)`);
  for (const s of [...sessions, ...more, ...warm]) s.close();
  return { kb, marginal };
}

/** The same number of idle TLS connections to a bare Node TLS server: Node's own floor per connection. */
async function tlsFloor(ca: TestCa): Promise<void> {
  const leaf = ca.issue({ name: "floor", domains: ["corp.test"] });
  const child = spawn(process.execPath, [join(import.meta.dirname, "sessions", "tls-floor-server.mjs"), ADDR.demarc, String(PORT.c2s), leaf.certPath, leaf.keyPath], { stdio: ["ignore", "pipe", "inherit"] });
  try {
    await new Promise<void>((resolve, reject) => {
      child.stdout!.once("data", () => resolve());
      child.once("exit", () => reject(new Error("TLS floor server exited")));
    });
    const open = () =>
      new Promise<TLSSocket>((resolve, reject) => {
        const s = tlsConnect({ host: ADDR.demarc, port: PORT.c2s, servername: "corp.test", ca: ca.certPem }, () => s.once("data", () => resolve(s)));
        s.once("error", reject);
      });
    const many = async (n: number) => {
      const out: TLSSocket[] = [];
      for (let i = 0; i < n; i += CONCURRENCY) out.push(...(await Promise.all(Array.from({ length: Math.min(CONCURRENCY, n - i) }, open))));
      return out;
    };
    const warm = await many(20);
    await settle();
    const before = memoryMb(child.pid!).rss;
    const conns = await many(N);
    await settle();
    const after = memoryMb(child.pid!).rss;
    const more = await many(N);
    await settle();
    const marginal = kbRaw(memoryMb(child.pid!).rss - after);
    console.log(
      `${"Node TLS".padEnd(8)} ${N} idle TLS connections to a bare Node TLS server: ${kbRaw(after - before).toFixed(1)} kB/connection, ${marginal.toFixed(1)} kB for ${N} more on top (the floor under any Node server)`,
    );
    for (const s of [...warm, ...conns, ...more]) s.destroy();
  } finally {
    child.kill("SIGTERM");
  }
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "bench-sessions-"));
  const ca = createTestCa(join(dir, "ca"));
  const dns = await startDnsServer(ADDR.dns, { a: { "corp.test": [ADDR.demarc], "partner-a.test": [ADDR.prosody] } });
  try {
    const configPath = demarcConfig(dir, ca, dns.server, []);
    const csv = join(dir, "users.csv");
    writeFileSync(csv, ["jid,password,group,contact,name,roster_group", ...users.map((u) => `${u}@corp.test,${PASSWORD},,,,`)].join("\n") + "\n");
    const demarc = await startDemarc(dir, configPath, [], undefined, csv);
    let ours = { kb: NaN, marginal: NaN };
    try {
      ours = await measure("demarc", demarc.pid!, { address: ADDR.demarc, port: PORT.c2s, domain: "corp.test", ca }, true);
    } finally {
      await stopByPid(demarc);
    }
    let theirs: { kb: number; marginal: number } | undefined;
    try {
      execFileSync("sh", ["-c", "command -v prosody"], { stdio: "ignore" });
      const prosody = await startProsody({ domain: "partner-a.test", address: ADDR.prosody, ca, dnsServer: dns.server, secureAuth: true, users: Object.fromEntries(users.map((u) => [u, PASSWORD])), s2sPort: PORT.s2s, c2sPort: PORT.c2s });
      try {
        theirs = await measure("Prosody", prosody.pid, { address: ADDR.prosody, port: PORT.c2s, domain: "partner-a.test", ca }, false);
      } finally {
        await prosody.stop();
      }
    } catch (err) {
      console.log(`Prosody: not measured (${(err as Error).message.split("\n")[0]})`);
    }
    if (theirs !== undefined) {
      console.log(`demarc at ${(ours.kb / theirs.kb).toFixed(2)}x Prosody's memory per idle session for the first ${N}, ${(ours.marginal / theirs.marginal).toFixed(2)}x at the margin (target: 0.5x or less)`);
    }
    await tlsFloor(ca);
  } finally {
    await dns.close();
  }
}

main().catch((err) => {
  console.error(`bench:sessions failed: ${(err as Error).message}`);
  process.exit(1);
});
