/**
 * RFC 6120 section 10.1 through the batched pipeline: 5,000 numbered messages
 * on one stream - an s2s stream, a c2s session, a SIP flow - reach their
 * recipient in the order they were sent, and each is archived exactly once;
 * a c2s session's presence keeps its place among its messages.
 */
import { afterAll, describe, expect, it } from "vitest";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect as netConnect } from "node:net";
import { archiveModule } from "../../src/archive/module.js";
import type { GatewayContext } from "../../src/module.js";
import type { ArchiveService } from "../../src/archive/archiver.js";
import { createTestCa } from "../helpers/ca.js";
import { startDnsServer } from "../helpers/dns-server.js";
import { startTestGateway } from "../helpers/xmpp-gateway.js";
import { RawPeer, header } from "../helpers/xmpp-raw.js";
import { startBench, login, xml } from "../access/c2s/helpers.js";
import { startEdge } from "../edge/sip/harness.js";
import { until } from "../helpers/wait.js";
import { rawRequest } from "../edge/sip/raw-client.js";

const N = 5_000;
const cleanups: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
});

/** Numbers of the archived bodies, in archive order, once the writer has stored all N. */
async function archivedNumbers(ctx: GatewayContext, svc: ArchiveService): Promise<number[]> {
  await until(() => svc.writer.written >= N || undefined, 60_000, "archive writer stored every record");
  const rows = (await ctx.db("archive_message").select("body").orderBy("seq")) as { body: string }[];
  return rows.map((r) => Number(r.body.replace(/^m/, "")));
}

const numbered = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

/** Delivered numbers must be 1..N in order, and the archive must hold each exactly once. */
async function expectInOrderArchivedOnce(delivered: number[], ctx: GatewayContext, svc: ArchiveService): Promise<void> {
  expect(delivered).toEqual(numbered(N));
  const archived = await archivedNumbers(ctx, svc);
  expect(archived.length).toBe(N);
  expect(new Set(archived).size).toBe(N);
  // The journal is appended in lane order, so the archive's sequence follows the stream too.
  expect(archived).toEqual(numbered(N));
}

async function withArchive(ctx: GatewayContext): Promise<ArchiveService> {
  const mod = archiveModule();
  await mod.start(ctx);
  cleanups.push(() => mod.stop(5_000));
  return mod.service!;
}

describe("one stream, 5,000 messages, in order and archived once", () => {
  it("s2s: an inbound stream authenticated with SASL EXTERNAL", async () => {
    const dir = mkdtempSync(join(tmpdir(), "order-s2s-"));
    const ca = createTestCa(join(dir, "ca"));
    const own = ca.issue({ name: "corp", domains: ["corp.test"] });
    const partner = ca.issue({ name: "bank", domains: ["bank.test"] });
    const dns = await startDnsServer("127.0.14.2", {});
    cleanups.push(() => dns.close());
    const gw = await startTestGateway({
      domains: ["corp.test"],
      log: { level: "silent" },
      tls: { certificates: [{ cert: own.certPath, key: own.keyPath }], trust: { system: false, ca_files: [ca.certPath] } },
      dns: { servers: [dns.server], timeout_ms: 500 },
      s2s: { starttls: { host: "127.0.14.1", port: 0 }, direct_tls: { enabled: false } },
      partners: [{ domain: "bank.test", auth: ["certificate"], rate: 1_000_000, burst: 1_000_000 }],
    });
    cleanups.push(() => gw.close());
    const archive = await withArchive(gw.ctx);
    const p = await RawPeer.connect("127.0.14.1", gw.s2s.addresses().starttls!.port);
    cleanups.push(async () => p.destroy());
    await p.write(header("bank.test", "corp.test"));
    await p.expect(/<starttls/);
    await p.starttls({ ca: ca.certPem, cert: partner.cert, key: partner.key, servername: "corp.test" });
    await p.write(header("bank.test", "corp.test"));
    await p.expect(/EXTERNAL/);
    await p.write(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='EXTERNAL'>=</auth>`);
    await p.expect(/<success/);
    await p.write(header("bank.test", "corp.test"));
    await p.expect(/<stream:features/);
    const stanzas = numbered(N).map((i) => `<message from='alice@bank.test' to='bob@corp.test' id='m${i}' type='chat'><body>m${i}</body></message>`);
    for (let i = 0; i < N; i += 500) await p.write(stanzas.slice(i, i + 500).join(""));
    await until(() => gw.sink.delivered.length >= N || undefined, 60_000, "all s2s messages delivered");
    await expectInOrderArchivedOnce(gw.sink.delivered.map((e) => Number(e.body!.slice(1))), gw.ctx, archive);
  }, 120_000);

  it("c2s: one client session sending to another user", async () => {
    const archive = archiveModule();
    const b = await startBench("127.0.14.10", {}, { modules: { before: [archive] } });
    cleanups.push(() => b.close());
    await b.addUser("alice");
    await b.addUser("bob");
    const bob = await login(b, "bob", { resource: "desk" });
    const alice = await login(b, "alice", { resource: "desk" });
    cleanups.push(() => alice.stop(), () => bob.stop());
    await bob.send(xml("presence"));
    await until(() => b.core.presenceOf("bob@corp.test").state !== "offline" || undefined, 5_000, "bob available");
    for (let i = 1; i <= N; i++) void alice.send(xml("message", { to: "bob@corp.test", type: "chat", id: `m${i}` }, xml("body", {}, `m${i}`)));
    const bodies = () => bob.all((el) => el.name === "message" && el.getChildText("body") !== null);
    await until(() => bodies().length >= N || undefined, 60_000, "all c2s messages received");
    await expectInOrderArchivedOnce(bodies().map((el) => Number(el.getChildText("body")!.slice(1))), b.gateway.context, archive.service!);
  }, 120_000);

  it("c2s: presence takes its place among the same session's messages", async () => {
    const b = await startBench("127.0.14.11", {}, { modules: { before: [archiveModule()] } });
    cleanups.push(() => b.close());
    await b.addUser("alice");
    await b.addUser("bob");
    const bob = await login(b, "bob", { resource: "desk" });
    const alice = await login(b, "alice", { resource: "desk" });
    cleanups.push(() => alice.stop(), () => bob.stop());
    await bob.send(xml("presence"));
    await until(() => b.core.presenceOf("bob@corp.test").state !== "offline" || undefined, 5_000, "bob available");
    // Directed presence reaches bob whatever the roster says; it is sent between message HALF and HALF + 1.
    const HALF = N / 2;
    const message = (i: number) => xml("message", { to: "bob@corp.test", type: "chat", id: `m${i}` }, xml("body", {}, `m${i}`));
    for (let i = 1; i <= HALF; i++) void alice.send(message(i));
    void alice.send(xml("presence", { to: "bob@corp.test/desk" }, xml("status", {}, "after-half")));
    for (let i = HALF + 1; i <= N; i++) void alice.send(message(i));
    const fromAlice = () =>
      bob.all((el) => (el.name === "message" && el.getChildText("body") !== null) || (el.name === "presence" && el.getChildText("status") === "after-half"));
    await until(() => fromAlice().length >= N + 1 || undefined, 60_000, "all messages and the presence received");
    const seen = fromAlice().map((el) => (el.name === "presence" ? "presence" : el.getChildText("body")!));
    expect(seen.indexOf("presence")).toBe(HALF);
    expect(seen.filter((x) => x !== "presence")).toEqual(numbered(N).map((i) => `m${i}`));
  }, 120_000);

  it("SIP: MESSAGEs on one TCP flow", async () => {
    const h = await startEdge({
      address: "127.0.14.20",
      sip: { limits: { requests_per_second: 1_000_000, burst: 1_000_000 } },
      config: { federation: { mode: "open" } },
    });
    cleanups.push(() => h.close());
    const archive = await withArchive(h.ctx);
    const sock = netConnect({ host: "127.0.14.20", port: h.edge.ports.TCP! });
    cleanups.push(async () => sock.destroy());
    await new Promise((r) => sock.once("connect", r));
    let answers = "";
    sock.on("data", (c: Buffer) => (answers += c.toString("latin1")));
    const requests = numbered(N).map((i) => rawRequest({ body: `m${i}` }));
    for (let i = 0; i < N; i += 500) sock.write(requests.slice(i, i + 500).join(""));
    await until(() => h.recorder.delivered.length >= N || undefined, 60_000, "all SIP messages delivered");
    await expectInOrderArchivedOnce(h.recorder.delivered.map((e) => Number(e.body!.slice(1))), h.ctx, archive);
    await until(() => (answers.match(/SIP\/2\.0 200 OK/g)?.length ?? 0) >= N || undefined, 10_000, "a 200 for every MESSAGE");
  }, 120_000);
});
