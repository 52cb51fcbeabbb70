/**
 * Two edges in front of one internal Prosody, which takes one component
 * connection per domain: edge A holds it, edge B stands by. Both are SRV
 * targets for corp.test (A first) with the same dialback secret. Edge A is
 * killed with SIGKILL while the partner sends a burst back to back: B takes
 * the component over, and every message the partner sent is either delivered
 * to the internal user or bounced back to the partner with an error, none
 * silently lost. The partner's Prosody runs XEP-0198 on its s2s stream and
 * the edge acknowledges a stanza only once the internal server confirmed its
 * delivery, so what was in flight inside A comes back to the partner unacked
 * and is bounced by it. Every delivered message is in exactly one edge's
 * archive (A's journal is replayed when A comes back, as the standby).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DemarcProcess } from "../../helpers/demarc.js";
import type { TestCa } from "../../helpers/ca.js";
import type { DnsServerHandle } from "../../helpers/dns-server.js";
import { startProsody, type ProsodyHandle } from "../../helpers/prosody.js";
import type { PartnerUser } from "../../helpers/xmpp-client.js";
import type { Operator } from "../../e2e/operator.js";
import { archivedRows, edgeOperator, prosodyComponent, startEdge, onlinePair, stopInOrder, testCa, twoEdgeDns } from "./harness.js";

const A = "127.0.15.71";
const B = "127.0.15.72";
const INTERNAL = "127.0.15.73";
const PEER = "127.0.15.74";
const DNS_ADDR = "127.0.15.75";
const SECRET = "redundancy-secret";
/** Messages sent back to back, A killed once KILL_AT of them reached the user; then AFTER more through B. */
const BURST = 200;
const KILL_AT = 20;
const AFTER = 20;
/** The partner's Prosody keeps what a stream has not acknowledged (XEP-0198) and bounces it when the stream dies. */
const SMACKS = `modules_enabled = { "roster", "saslauth", "tls", "dialback", "disco", "ping", "presence", "message", "smacks" }\nsmacks_max_queue_size = 10000`;

let dns: DnsServerHandle;
let ca: TestCa;
let internal: ProsodyHandle;
let partner: ProsodyHandle;
const ops: Record<"a" | "b", Operator> = {} as Record<"a" | "b", Operator>;
let edgeA: DemarcProcess;
let edgeB: DemarcProcess;
let alice: PartnerUser;
let bob: PartnerUser;

const edgeOp = (address: string) => edgeOperator({ address, ca, dns: dns.server, internal: { host: INTERNAL }, s2s: { dialback_secret: "shared-dialback-secret" }, edge: { deliver_wait_ms: 3_000 } });
const start = startEdge;

beforeAll(async () => {
  process.env.DEMARC_COMPONENT_SECRET = SECRET;
  dns = await twoEdgeDns({ dns: DNS_ADDR, a: A, b: B, peer: PEER });
  ca = testCa("redundancy");
  [ops.a, ops.b] = await Promise.all([edgeOp(A), edgeOp(B)]);
  [internal, partner] = await Promise.all([
    startProsody({
      domain: "corp.test",
      address: INTERNAL,
      ca,
      dnsServer: dns.server,
      secureAuth: true,
      users: { alice: "pw" },
      extra: prosodyComponent(INTERNAL, SECRET),
    }),
    startProsody({ domain: "partner-a.test", address: PEER, ca, dnsServer: dns.server, secureAuth: true, users: { bob: "pw" }, extra: SMACKS }),
  ]);
  edgeA = start(ops.a);
  await edgeA.waitForLog((l) => l.msg === "component stream online", 20_000);
  edgeB = start(ops.b);
  await edgeB.waitForLog((l) => l.msg === "component held by another connection; standing by", 20_000);
  [alice, bob] = await onlinePair({ internal: INTERNAL, peer: PEER, caPem: ca.certPem });
}, 90_000);

afterAll(() => stopInOrder([alice, bob], [edgeA, edgeB], [internal, partner], [dns]));

const body = (el: { getChildText(n: string): string | null }) => el.getChildText("body") ?? "";

const archived = async (op: Operator) => (await archivedRows(op, ["--kind", "message", "--direction", "inbound"])).map((r) => String(r.body));

describe("two edges, one standby, the active one killed", () => {
  it("loses no message: each one the partner sent is delivered or bounced, and each is archived at most once, once if delivered", async () => {
    // The s2s stream to A is up, with stream management (XEP-0198) enabled, before the burst.
    await bob.message("alice@corp.test", "warm-up", "warm-up");
    await alice.waitFor((el) => body(el) === "warm-up", 15_000);
    const enabled = await edgeA.waitForLog((l) => l.msg === "s2s inbound stream management enabled", 5_000);
    expect(enabled.confirmed).toBe(true);

    const burst = Array.from({ length: BURST }, (_, i) => `m${i}`);
    const after = Array.from({ length: AFTER }, (_, i) => `n${i}`);
    const got = () => alice.received.filter((el) => body(el).startsWith("msg m")).length;
    // Back to back: the kill lands while the burst is in flight through A (decided, journaled, on the component link, unread).
    const sending = (async () => {
      for (const id of burst) await bob.message("alice@corp.test", `msg ${id}`, id);
    })();
    await alice.waitFor(() => got() >= KILL_AT, 30_000);
    const inFlight = BURST - got();
    process.kill(edgeA.pid, "SIGKILL");
    await edgeA.exit;
    await sending;
    await edgeB.waitForLog((l) => l.msg === "component stream online", 15_000);
    // Traffic resumes through B.
    for (const id of after) await bob.message("alice@corp.test", `msg ${id}`, id);

    const ids = [...burst, ...after];
    const delivered = (id: string) => alice.received.some((el) => body(el) === `msg ${id}`);
    const bounced = (id: string) => bob.received.some((el) => el.attrs.type === "error" && el.attrs.id === id);
    const fate = (id: string) => (delivered(id) ? "delivered" : bounced(id) ? "bounced" : undefined);
    const deadline = Date.now() + 60_000;
    while (ids.some((id) => !fate(id)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const counts = { delivered: 0, bounced: 0, lost: 0 };
    for (const id of ids) counts[fate(id) ?? "lost"]++;
    const both = ids.filter((id) => delivered(id) && bounced(id)).length;
    console.log(
      `redundancy: sent ${ids.length} (${BURST} back to back, A killed with ${inFlight} not yet at the user, then ${AFTER} through B), ` +
        `delivered ${counts.delivered}, bounced ${counts.bounced}, lost ${counts.lost} (delivered and also bounced: ${both})`,
    );
    expect(inFlight).toBeGreaterThan(0);
    expect(counts.lost).toBe(0);
    expect(counts.delivered + counts.bounced).toBe(ids.length);
    expect(after.every(delivered)).toBe(true);

    // A comes back as the standby and replays its journal into its archive.
    edgeA = start(ops.a);
    await edgeA.waitForLog((l) => l.msg === "component held by another connection; standing by", 20_000);
    await edgeA.stop();
    await edgeB.stop();
    const [inA, inB] = await Promise.all([archived(ops.a), archived(ops.b)]);
    const all = [...inA, ...inB];
    console.log(`redundancy: archived at A ${inA.filter((b) => b.startsWith("msg ")).length}, at B ${inB.filter((b) => b.startsWith("msg ")).length}`);
    for (const id of ids) {
      const n = all.filter((x) => x === `msg ${id}`).length;
      if (delivered(id)) expect(n, id).toBe(1);
      else expect(n, id).toBeLessThanOrEqual(1);
    }
  }, 180_000);
});
