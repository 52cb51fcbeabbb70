/**
 * bench:relay - end-to-end message relay against real servers, in one run:
 *
 *   Prosody -> ejabberd                 the baseline (where ejabberd is installed)
 *   Prosody -> demarc -> c2s user       inbound through compliance and archive
 *   c2s user -> demarc -> Prosody       outbound
 *   ejabberd -> demarc -> c2s user      a second partner implementation
 *   N partner domains x 1 s2s stream    synthetic aggregate load
 *
 * demarc runs as its own process with the archive on SQLite and the shipped
 * policies loaded (rate limits off); its CPU (share of one core) and RSS are
 * read from /proc. Each run checks the messages arrived in order. Beside them,
 * Prosody's CPU and the whole machine's: when the machine is at its cores'
 * limit, the peers, the clients and demarc are sharing it, and what decides
 * the rate is the CPU each message costs everyone.
 *
 * Each size runs in rounds (3 by default), the baseline and Prosody -> demarc
 * taking turns to go first; the ratio printed is the median of the rounds,
 * with each round's beside it: one run of either path varies by a tenth
 * from run to run on a shared two-core machine.
 *
 *   npm run bench:relay -- [--sizes 2000,20000] [--rounds 3] [--domains 50] [--per-stream 400] [--warm 20000] [--profile DIR] [--alloc-profile DIR]
 *
 * Starts real peers on fixed loopback addresses: run it under the shared peer lock.
 */
import { parseArgs } from "node:util";
import { ADDR, PORT, RECEIVERS, startWorld, type World } from "./relay/setup.js";
import { benchClient, relayRun, type BenchClient } from "./relay/clients.js";
import { availableParallelism } from "node:os";
import { cpuSeconds, machineBusySeconds, measured } from "./relay/proc.js";
import { trustTestCa } from "../test/helpers/xmpp-tls.js";
import { openStreams, syntheticDomains, syntheticRun } from "./relay/synthetic.js";

const { values } = parseArgs({
  options: {
    sizes: { type: "string", default: "2000,20000" },
    domains: { type: "string", default: "50" },
    "per-stream": { type: "string", default: "400" },
    warm: { type: "string", default: "20000" },
    rounds: { type: "string", default: "3" },
    profile: { type: "string" },
    "alloc-profile": { type: "string" },
  },
});
const sizes = values.sizes.split(",").map(Number);
const domains = syntheticDomains(Number(values.domains));
const perStream = Number(values["per-stream"]);
const warm = Number(values.warm);
const rounds = Math.max(1, Number(values.rounds));

interface Row {
  path: string;
  n: number;
  rate: number;
  seconds: number;
  inOrder: boolean;
  firstGap?: string | undefined;
  /** CPU the benchmark's own clients used, as a share of one core. */
  clients?: number | undefined;
  /** Prosody's CPU and the whole machine's, as shares of one core, while the path ran. */
  prosody?: number | undefined;
  machine?: number | undefined;
  cpu?: { seconds: number; mainSeconds: number; cores: number; rssMb: number; peakMb: number } | undefined;
}

const rows: Row[] = [];
const CORES = availableParallelism();
const fmt = (x: number) => Math.round(x).toLocaleString("en-US");

function print(r: Row): void {
  // CPU per message is the figure that survives a machine shared with other work; msg/s does not.
  const cpu = r.cpu ? `  demarc ${(r.cpu.cores * 100).toFixed(0)}% of a core, ${((r.cpu.seconds / r.n) * 1e6).toFixed(0)} us CPU/msg (main thread ${((r.cpu.mainSeconds / r.n) * 1e6).toFixed(0)}), RSS ${r.cpu.rssMb.toFixed(0)} MB (peak ${r.cpu.peakMb.toFixed(0)})` : "";
  const clients = r.clients !== undefined ? `  clients ${(r.clients * 100).toFixed(0)}%` : "";
  const prosody = r.prosody ? `  Prosody ${(r.prosody * 100).toFixed(0)}%` : "";
  const machine = r.machine !== undefined ? `  machine ${(r.machine * 100).toFixed(0)}% of ${CORES * 100}%` : "";
  console.log(`${r.path.padEnd(34)} ${String(r.n).padStart(6)} msgs  ${fmt(r.rate).padStart(7)} msg/s  ${r.seconds.toFixed(2)} s${r.inOrder ? "" : `  OUT OF ORDER (${r.firstGap})`}${cpu}${clients}${prosody}${machine}`);
  rows.push(r);
}

async function path(world: World, label: string, from: BenchClient, to: BenchClient, n: number, run: string, watchDemarc: boolean): Promise<Row> {
  const own = process.cpuUsage();
  const prosody0 = cpuSeconds(world.prosody.pid);
  const machine0 = machineBusySeconds();
  const { result, cpu } = await measured(watchDemarc ? world.demarc.pid : undefined, () => relayRun(from, to, run, n));
  const used = process.cpuUsage(own);
  const share = (seconds: number) => seconds / result.seconds;
  const row = {
    path: label,
    n,
    ...result,
    cpu,
    clients: share((used.user + used.system) / 1e6),
    prosody: share(cpuSeconds(world.prosody.pid) - prosody0),
    machine: share(machineBusySeconds() - machine0),
  };
  print(row);
  return row;
}

async function demarcWait(): Promise<string> {
  const text = await fetch(`http://${ADDR.demarc}:${PORT.admin}/metrics`).then((r) => r.text());
  const get = (name: string) => Number(new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.e+-]+)`, "m").exec(text)?.[1] ?? NaN);
  const sum = get("demarc_route_wait_seconds_sum");
  const count = get("demarc_route_wait_seconds_count");
  return `${fmt(count)} envelopes routed, mean wait ${((sum / count) * 1000).toFixed(1)} ms, journal pending ${get("demarc_archive_journal_pending_records")} records`;
}

async function main(): Promise<void> {
  const t0 = Date.now();
  const world = await startWorld({ synthetic: domains, profile: { cpu: values.profile, alloc: values["alloc-profile"] } });
  const clients: BenchClient[] = [];
  trustTestCa(world.ca.certPem);
  try {
    const login = async (address: string, domain: string, user: string) => {
      const c = await benchClient({ address, port: PORT.c2s, domain }, user, world.password);
      clients.push(c);
      return c;
    };
    const alice = await login(ADDR.prosody, "partner-a.test", "alice");
    const bob = await login(ADDR.demarc, "corp.test", "bob");
    const carol = world.ejabberd ? await login(ADDR.ejabberd, "ejab.test", "carol") : undefined;
    console.log(`peers up in ${((Date.now() - t0) / 1000).toFixed(1)} s: Prosody 0.12, ${carol ? "ejabberd" : "no ejabberd (not installed)"}, demarc pid ${world.demarc.pid}`);
    // Warm-up, the same number of messages over every timed path, the baseline included: every s2s
    // stream established and TLS done, and each server past its start-up transients (V8 and BEAM
    // compile hot code only after it has run many times, buffers and pools grow to their working
    // size), so the first timed run of a path is not charged for them and no path is favoured.
    // 20,000 each: with 2,000, the first timed demarc path still cost a third more CPU per message
    // than the same path run again (V8's old generation and the archive's files still growing);
    // the figures are meant to be what a gateway that has been up a while does.
    await relayRun(alice, bob, "warm1", warm);
    await relayRun(bob, alice, "warm2", warm);
    if (carol) {
      await relayRun(alice, carol, "warm3", warm);
      await relayRun(carol, bob, "warm4", warm);
    }
    for (const n of sizes) {
      console.log(`\n-- ${n.toLocaleString("en-US")} messages, one client per side, ${rounds} round${rounds > 1 ? "s" : ""} --`);
      const ratios: number[] = [];
      for (let r = 1; r <= rounds; r++) {
        const tag = `${n}r${r}`;
        // Alternate which of the pair goes first, so neither always runs on a machine the other just warmed or loaded.
        const baseline = () => (carol ? path(world, "Prosody -> ejabberd (baseline)", alice, carol, n, `pe${tag}`, false) : Promise.resolve(undefined));
        const ours = () => path(world, "Prosody -> demarc -> c2s user", alice, bob, n, `pd${tag}`, true);
        let base: Row | undefined;
        let inbound: Row;
        if (r % 2 === 1) {
          base = await baseline();
          inbound = await ours();
        } else {
          inbound = await ours();
          base = await baseline();
        }
        await path(world, "c2s user -> demarc -> Prosody", bob, alice, n, `dp${tag}`, true);
        if (carol) await path(world, "ejabberd -> demarc -> c2s user", carol, bob, n, `ed${tag}`, true);
        if (base) ratios.push(inbound.rate / base.rate);
      }
      if (ratios.length) {
        const sorted = [...ratios].sort((a, b) => a - b);
        const median = sorted[Math.floor(sorted.length / 2)]!;
        const each = ratios.map((x) => x.toFixed(2)).join(", ");
        console.log(`Prosody -> demarc -> user at ${median.toFixed(2)}x Prosody -> ejabberd${ratios.length > 1 ? ` (median of ${ratios.length} rounds: ${each})` : ""}`);
      }
    }
    console.log(`\n-- synthetic: ${domains.length} partner domains x 1 s2s stream x ${perStream} messages --`);
    const streams = await openStreams(world.ca, domains, { address: ADDR.demarc, port: PORT.s2s });
    const receivers = await Promise.all(RECEIVERS.map((r) => login(ADDR.demarc, "corp.test", r)));
    const { result, cpu } = await measured(world.demarc.pid, () => syntheticRun(streams, perStream, receivers));
    print({ path: `${domains.length} partners -> demarc -> ${RECEIVERS.length} users`, n: result.messages, rate: result.rate, seconds: result.seconds, inOrder: result.inOrder, cpu });
    console.log(`\ndemarc: ${await demarcWait()}`);
  } finally {
    for (const c of clients) await c.stop();
    await world.close();
  }
  if (values.profile) console.log(`CPU profile of demarc written to ${values.profile}`);
  if (values["alloc-profile"]) console.log(`allocation profile of demarc written to ${values["alloc-profile"]} (npx tsx bench/relay/profile-top.ts ${values["alloc-profile"]})`);
  if (rows.some((r) => !r.inOrder)) process.exitCode = 1;
}

main().catch((err) => {
  console.error(`bench:relay failed: ${(err as Error).message}`);
  process.exit(1);
});
