/**
 * ejabberd inside, two edges: ejabberd (23.01) takes several component
 * connections for one domain and routes each stanza to one of them, so both
 * edges are active at once, where Prosody keeps the second as the standby
 * (redundancy.test.ts). Both edges hold partner-a.test on ejabberd; the
 * internal user's messages leave through both (each edge archives its share);
 * a partner's messages come in through the one the partner's SRV lookup
 * chose; edge A killed with SIGKILL leaves B carrying everything without a
 * takeover.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { until } from "../../helpers/wait.js";
import type { DemarcProcess } from "../../helpers/demarc.js";
import type { TestCa } from "../../helpers/ca.js";
import type { DnsServerHandle } from "../../helpers/dns-server.js";
import { startProsody, type ProsodyHandle } from "../../helpers/prosody.js";
import { startEjabberd, type EjabberdHandle } from "../../helpers/ejabberd.js";
import type { PartnerUser } from "../../helpers/xmpp-client.js";
import type { Operator } from "../../e2e/operator.js";
import { COMPONENT_PORT, archivedRows, edgeOperator, startEdge, onlinePair, stopInOrder, testCa, twoEdgeDns } from "./harness.js";
import type { Element } from "../../../src/xmpp/index.js";

const A = "127.0.15.91";
const B = "127.0.15.92";
const INTERNAL = "127.0.15.93";
const PEER = "127.0.15.94";
const DNS_ADDR = "127.0.15.95";
const SECRET = "both-active-secret";
const N = 30;

let dns: DnsServerHandle;
let ca: TestCa;
let internal: EjabberdHandle;
let partner: ProsodyHandle;
const ops: Record<"a" | "b", Operator> = {} as Record<"a" | "b", Operator>;
let edgeA: DemarcProcess;
let edgeB: DemarcProcess;
let alice: PartnerUser;
let bob: PartnerUser;

const edgeOp = (address: string) => edgeOperator({ address, ca, dns: dns.server, internal: { host: INTERNAL }, s2s: { dialback_secret: "shared-dialback-secret" } });
const start = startEdge;
const body = (el: Element) => el.getChildText("body") ?? "";

const archivedOutbound = async (op: Operator) => (await archivedRows(op, ["--kind", "message", "--direction", "outbound"])).map((r) => String(r.body));

beforeAll(async () => {
  process.env.DEMARC_COMPONENT_SECRET = SECRET;
  dns = await twoEdgeDns({ dns: DNS_ADDR, a: A, b: B, peer: PEER });
  ca = testCa("both-active");
  [ops.a, ops.b] = await Promise.all([edgeOp(A), edgeOp(B)]);
  [internal, partner] = await Promise.all([
    startEjabberd({
      domain: "corp.test",
      address: INTERNAL,
      ca,
      dnsServer: dns.server,
      users: { alice: "pw" },
      distPort: 15392,
      hosts: {},
      extraListen: `  -\n    port: ${COMPONENT_PORT}\n    ip: "${INTERNAL}"\n    module: ejabberd_service\n    hosts:\n      "partner-a.test":\n        password: "${SECRET}"\n`,
    }),
    startProsody({ domain: "partner-a.test", address: PEER, ca, dnsServer: dns.server, secureAuth: true, users: { bob: "pw" } }),
  ]);
  edgeA = start(ops.a);
  edgeB = start(ops.b);
  await Promise.all([edgeA.waitForLog((l) => l.msg === "component stream online", 20_000), edgeB.waitForLog((l) => l.msg === "component stream online", 20_000)]);
  [alice, bob] = await onlinePair({ internal: INTERNAL, peer: PEER, caPem: ca.certPem });
}, 120_000);

afterAll(() => stopInOrder([alice, bob], [edgeA, edgeB], [internal, partner], [dns]));

describe("ejabberd inside: both edges active", () => {
  it("holds the component on both edges at once, none standing by", () => {
    for (const e of [edgeA, edgeB]) expect(e.logs.some((l) => l.msg === "component held by another connection; standing by")).toBe(false);
  });

  it("sends the internal user's messages out through both edges, and a partner's in", async () => {
    for (let i = 0; i < N; i++) await alice.message("bob@partner-a.test", `out ${i}`, `o${i}`);
    await bob.waitFor(() => bob.received.filter((el) => body(el).startsWith("out ")).length >= N, 30_000);
    await bob.message("alice@corp.test", "in 1", "i1");
    await alice.waitFor((el) => body(el) === "in 1", 15_000);
    // Each edge archived its share; together every message exactly once. A record reaches the
    // database from the edge's journal a moment after its delivery: read until all are there (bounded).
    const read = async () => (await Promise.all([archivedOutbound(ops.a), archivedOutbound(ops.b)])).map((bodies) => bodies.filter((b) => b.startsWith("out ")));
    const [inA, inB] = await until(async () => {
      const shares = await read();
      return shares[0]!.length + shares[1]!.length >= N && shares;
    }, 10_000, "every outbound message in the edges' archives");
    console.log(`both active: of ${N} outbound messages edge A carried ${inA!.length}, edge B ${inB!.length}`);
    expect(inA!.length).toBeGreaterThan(0);
    expect(inB!.length).toBeGreaterThan(0);
    for (let i = 0; i < N; i++) expect([...inA!, ...inB!].filter((b) => b.startsWith(`out ${i}\n`) || b === `out ${i}` || b.startsWith(`out ${i} `)), `out ${i}`).toHaveLength(1);
  }, 60_000);

  it("keeps carrying both ways through B when A is killed, with no takeover to wait for", async () => {
    process.kill(edgeA.pid, "SIGKILL");
    await edgeA.exit;
    const seen = bob.received.length;
    for (let i = 0; i < N; i++) await alice.message("bob@partner-a.test", `after ${i}`, `a${i}`);
    await bob.waitFor(() => bob.received.slice(seen).filter((el) => body(el).startsWith("after ")).length >= N, 30_000);
    await bob.message("alice@corp.test", "in 2", "i2");
    await alice.waitFor((el) => body(el) === "in 2", 20_000);
  }, 60_000);
});
