/**
 * Presence core benchmarks (in-process, no sockets):
 *   1. the design guide's all-hands burst: 9,000 online users with 75 contacts
 *      each change state at once = 675,000 notifications through the core;
 *   2. the same burst delivered to 9,000 real c2s sockets on loopback, timed
 *      against writing the same bytes to the same sockets (bench/core/sockets.ts);
 *   3. the memory of 75,000 users x 75 contacts loaded in the working set
 *      (parts 2 and 3 in child processes so their figures are not mixed).
 * Usage: npx tsx bench/core.ts [users] [contacts]   (npm run bench:core)
 */
import { spawnSync } from "node:child_process";
import { PresenceCore } from "../src/core/core.js";
import { MemoryStore } from "../src/core/store.js";
import type { RosterItem } from "../src/core/types.js";
import { socketBurst } from "./core/sockets.js";

const jid = (i: number) => `user${i}@corp.test`;

/** Circulant graph: offsets +-1..+-(d-1)/2 and n/2 give every user exactly d (odd) mutual contacts. */
function contactsOf(i: number, n: number, d: number): number[] {
  const out: number[] = [];
  for (let k = 1; k <= (d - 1) / 2; k++) out.push((i + k) % n, (i - k + n) % n);
  if (d % 2 === 1) out.push((i + n / 2) % n);
  return out;
}

/** As the knex store loads them: items without groups share one frozen empty array. */
const NO_GROUPS = Object.freeze([]) as unknown as string[];
function item(contact: string): RosterItem {
  return { jid: contact, groups: NO_GROUPS, subscription: "both", ask: false, pendingIn: false, approved: false, hidden: false };
}

const mb = (b: number) => `${(b / 1024 / 1024).toFixed(0)} MB`;

async function burst(n: number, d: number): Promise<void> {
  let delivered = 0;
  const sink = { push: () => void delivered++ };
  const core = new PresenceCore({ domains: ["corp.test"], store: new MemoryStore(), limits: { maxContacts: d + 1, maxWatchers: d + 1 } });
  const t0 = performance.now();
  for (let i = 0; i < n; i++) core.users.adopt(jid(i), undefined, contactsOf(i, n, d).map((c) => item(jid(c))));
  const sessions = [];
  for (let i = 0; i < n; i++) sessions.push(await core.connect(jid(i), "desk", sink));
  for (const s of sessions) await s.presence({ state: "available" }, 0);
  const setupMs = performance.now() - t0;

  // Baseline: the bare fan-out (one call per watcher) without the core's routing and policy.
  const rosters = Array.from({ length: n }, (_, i) => contactsOf(i, n, d));
  let floor = 0;
  const f0 = performance.now();
  for (let i = 0; i < n; i++) for (const _c of rosters[i]!) floor++;
  const floorMs = performance.now() - f0;

  delivered = 0;
  const before = core.stats.pushed;
  const b0 = performance.now();
  for (const s of sessions) await s.presence({ state: "in-a-meeting", note: "All hands" }, 0);
  const ms = performance.now() - b0;
  const notifications = core.stats.pushed - before;
  if (notifications !== n * d || delivered !== n * d) throw new Error(`expected ${n * d} notifications, got ${notifications} (${delivered} delivered)`);
  console.log(`all-hands burst: ${n} users x ${d} contacts change state at once`);
  console.log(`  setup (load + ${n} logins + initial presence): ${setupMs.toFixed(0)} ms`);
  console.log(`  ${notifications.toLocaleString("en")} notifications in ${ms.toFixed(0)} ms = ${Math.round(notifications / (ms / 1000)).toLocaleString("en")} notifications/s`);
  console.log(`  baseline (bare loop over the same fan-out, ${floor.toLocaleString("en")} steps): ${floorMs.toFixed(1)} ms`);
}

function rss(n: number, d: number): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const before = process.memoryUsage();
  const core = new PresenceCore({ domains: ["corp.test"], store: new MemoryStore() });
  const t0 = performance.now();
  // Distinct strings per item, as rows read from the database would be.
  for (let i = 0; i < n; i++) core.users.adopt(jid(i), undefined, contactsOf(i, n, d).map((c) => item(`user${c}@corp.test`.slice(0))));
  const ms = performance.now() - t0;
  gc?.();
  const after = process.memoryUsage();
  const items = n * d;
  console.log(`working set: ${n.toLocaleString("en")} users x ${d} contacts = ${items.toLocaleString("en")} roster items loaded in ${ms.toFixed(0)} ms`);
  console.log(`  RSS ${mb(after.rss)} (grew ${mb(after.rss - before.rss)}), heap used grew ${mb(after.heapUsed - before.heapUsed)} = ${((after.heapUsed - before.heapUsed) / items).toFixed(0)} bytes per roster item${gc ? "" : " (run with --expose-gc for exact figures)"}`);
  if (core.users.size !== n) throw new Error("not all users loaded");
}

const mode = process.argv[2];
if (mode === "rss") {
  rss(Number(process.argv[3] ?? 75_000), Number(process.argv[4] ?? 75));
} else if (mode === "sockets") {
  await socketBurst(Number(process.argv[3] ?? 9_000), Number(process.argv[4] ?? 75));
} else {
  const users = Number(process.argv[2] ?? 9_000);
  const contacts = Number(process.argv[3] ?? 75);
  await burst(users, contacts);
  // Each part in a fresh process, so one's heap does not weigh on the next's figures.
  const sockets = spawnSync(process.execPath, [...process.execArgv, "--max-old-space-size=4096", process.argv[1]!, "sockets", String(users), String(contacts)], { stdio: "inherit" });
  const child = spawnSync(process.execPath, [...process.execArgv, "--expose-gc", "--max-old-space-size=4096", process.argv[1]!, "rss", "75000", String(contacts)], { stdio: "inherit" });
  process.exitCode = sockets.status || child.status || 0;
}
