/**
 * The composed product, run the way an operator runs it: the real `demarc`
 * binary set up with its own CLI (certs install, users add, policy lint)
 * federates with a real Prosody partner over s2s, with its internal user on
 * c2s, every message crossing the compliance pipeline and the archive, which
 * the operator then searches and verifies with the CLI after a clean stop.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { baseConfig, runDemarc, type DemarcProcess } from "../helpers/demarc.js";
import { createTestCa } from "../helpers/ca.js";
import { startDnsServer, type DnsServerHandle } from "../helpers/dns-server.js";
import { startProsody, type ProsodyHandle } from "../helpers/prosody.js";
import { loginPartnerUser, type PartnerUser } from "../helpers/xmpp-client.js";
import { login, xml, isMsg, C2S_PORT, C2S_TLS_PORT, type User } from "../access/c2s/helpers.js";
import type { Element } from "../../src/xmpp/xml.js";
import { operatorDir, type Operator } from "./operator.js";
import { until } from "../helpers/wait.js";

const DEMARC = "127.0.9.1";
const DNS_ADDR = "127.0.9.2";
const PEER = "127.0.9.11";
// Off the standard ports: a system XMPP server on 0.0.0.0 would cover every loopback address.
const S2S_PORT = 16269;
const ADMIN_PORT = 16280;
const PEER_S2S = 15269;

const BLOCKED_PHRASE = "launch codes";
const BLOCK_REASON = "Launch codes may not be discussed with partners.";
const CARD = "4111 1111 1111 1111";

const testRule = `kind: policy
description: End-to-end test rule - a phrase partners may not send in.
rules:
  - id: e2e-block-launch-codes
    when:
      direction: inbound
      partners: [partner-a.test]
      kind: message
      words: ["${BLOCKED_PHRASE}"]
    then:
      action: block
      reason: "${BLOCK_REASON}"
`;

let dns: DnsServerHandle;
let peer: ProsodyHandle;
let op: Operator;
let gw: DemarcProcess;
let alice: PartnerUser;
let bob: User;
let lint: { code: number | null; stdout: string; stderr: string };
let exitCode: number | null | undefined;
let caPem = "";

const PW = { bob: "bob-password-1", carol: "carol-password-1" };

beforeAll(async () => {
  dns = await startDnsServer(DNS_ADDR, {
    a: { "corp.test": [DEMARC], "partner-a.test": [PEER] },
    srv: {
      "_xmpp-server._tcp.corp.test": [{ priority: 10, weight: 1, port: S2S_PORT, target: "corp.test" }],
      "_xmpp-server._tcp.partner-a.test": [{ priority: 10, weight: 1, port: PEER_S2S, target: "partner-a.test" }],
    },
  });
  op = operatorDir(
    baseConfig(DEMARC, {
      data_dir: "data", log: { level: "info", format: "json" },
      admin: { host: DEMARC, port: ADMIN_PORT },
      s2s: { starttls: { host: DEMARC, port: S2S_PORT }, direct_tls: { host: DEMARC, port: S2S_PORT + 1 } },
      c2s: { starttls: { host: DEMARC, port: C2S_PORT }, direct_tls: { host: DEMARC, port: C2S_TLS_PORT } },
      tls: { trust: { system: false, ca_files: ["ca/ca.crt"] } },
      dns: { servers: [dns.server], timeout_ms: 1000 },
      policy: { dir: "policies", watch: false },
      partners: [{ domain: "partner-a.test", auth: ["certificate"] }],
    }),
    { "15-e2e-block.yaml": testRule },
  );
  const caDir = join(op.dir, "ca");
  mkdirSync(caDir, { recursive: true });
  const ca = createTestCa(caDir);
  caPem = ca.certPem;
  expect(ca.certPath).toBe(join(caDir, "ca.crt"));

  const leaf = ca.issue({ name: "corp", domains: ["corp.test"], xmppAddrs: ["corp.test"] });
  await op.demarc(["certs", "install", leaf.certPath, leaf.keyPath]);
  await op.demarc(["users", "add", "bob@corp.test", "--password", PW.bob]);
  await op.demarc(["users", "add", "carol@corp.test", "--password", PW.carol]);
  lint = await op.demarc(["policy", "lint", op.policyDir], { allowFail: true });

  peer = await startProsody({ domain: "partner-a.test", address: PEER, ca, dnsServer: dns.server, secureAuth: true, s2sPort: PEER_S2S, users: { alice: "pw" } });
  gw = runDemarc(["--config", op.configPath, "start"], { cwd: op.dir });
  await gw.waitForLog((l) => l.msg === "demarc started", 20_000);

  alice = await loginPartnerUser({ address: PEER, port: peer.c2sPort, domain: "partner-a.test", username: "alice", password: "pw", caPem: ca.certPem });
  await alice.send(xml("iq", { type: "get", id: "roster1" }, xml("query", { xmlns: "jabber:iq:roster" })));
  await alice.presence();
  bob = await login({ address: DEMARC, caPem: ca.certPem }, "bob", { password: PW.bob, resource: "desk" });
  await bob.iq(xml("iq", { type: "get" }, xml("query", { xmlns: "jabber:iq:roster" })));
  await bob.send(xml("presence"));
}, 60_000);

afterAll(async () => {
  await bob?.stop();
  await alice?.stop();
  if (gw) await gw.stop();
  await peer?.stop();
  await dns?.close();
});

const dump = () => `\n--- stderr ---\n${gw.stderr.slice(-6000)}\n--- prosody ---\n${peer.log().slice(-2500)}\n--- demarc ---\n${gw.logs.slice(-15).map((l) => JSON.stringify(l)).join("\n")}\n${gw.stderr}`;
const orDump = <T>(p: Promise<T>) => p.catch((err: Error) => Promise.reject(new Error(`${err.message}${dump()}`)));
const fromAlice = (el: Element) => (el.attrs.from ?? "").startsWith("alice@partner-a.test");
const fromBob = (el: Element) => (el.attrs.from ?? "").startsWith("bob@corp.test");

interface ArchivedRecord {
  direction: string;
  kind: string;
  from: string;
  to: string;
  partner: string | null;
  body: string | null;
  deliveredBody: string | null;
  verdict: string;
  ruleId: string | null;
  auth: string | null;
  msgId: string | null;
}

async function search(args: string[]): Promise<ArchivedRecord[]> {
  const r = await op.demarc(["archive", "search", "--json", "--limit", "1000", ...args]);
  return r.stdout.split("\n").filter(Boolean).map((l) => JSON.parse(l) as ArchivedRecord);
}

async function metrics(): Promise<string> {
  const res = await fetch(`http://${DEMARC}:${ADMIN_PORT}/metrics`);
  expect(res.status).toBe(200);
  return res.text();
}

/** The sum of a metric's samples whose labels include every given pair. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split("\n")) {
    if (!line.startsWith(name)) continue;
    const m = /^([a-zA-Z0-9_:]+)(\{[^}]*\})? ([0-9.e+-]+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    if (Object.entries(labels).every(([k, v]) => (m[2] ?? "").includes(`${k}="${v}"`))) sum += Number(m[3]);
  }
  return sum;
}

describe("demarc federating with a real Prosody partner", () => {
  it("was set up with the operator's commands: the policy folder lints clean", () => {
    expect(lint.code, `${lint.stdout}\n${lint.stderr}`).toBe(0);
    expect(gw.logs.some((l) => l.msg === "hosted domains not covered by any installed certificate")).toBe(false);
  });

  it("subscribes both ways and maps rich presence across the edge", async () => {
    await bob.send(xml("presence", { to: "alice@partner-a.test", type: "subscribe" }));
    await orDump(alice.waitFor((el) => el.name === "presence" && el.attrs.type === "subscribe" && el.attrs.from === "bob@corp.test"));
    await alice.send(xml("presence", { to: "bob@corp.test", type: "subscribed" }));
    await orDump(bob.waitFor((el) => el.name === "presence" && fromAlice(el) && el.attrs.type === undefined));

    await alice.send(xml("presence", { to: "bob@corp.test", type: "subscribe" }));
    await orDump(bob.waitFor((el) => el.name === "presence" && el.attrs.type === "subscribe" && el.attrs.from === "alice@partner-a.test"));
    await bob.send(xml("presence", { to: "alice@partner-a.test", type: "subscribed" }));
    await orDump(alice.waitFor((el) => el.name === "presence" && fromBob(el) && el.attrs.type === undefined));

    // bob's device state goes out as a rich state and arrives as show/status.
    await bob.send(xml("presence", {}, xml("show", {}, "dnd"), xml("status", {}, "In a meeting")));
    const rich = await orDump(alice.waitFor((el) => el.name === "presence" && fromBob(el) && el.getChildText("show") === "dnd"));
    expect(rich.getChildText("status")).toBe("In a meeting");
    // alice's state comes in the same way.
    await alice.presence({}, [xml("show", {}, "away"), xml("status", {}, "At lunch")]);
    const back = await orDump(bob.waitFor((el) => el.name === "presence" && fromAlice(el) && el.getChildText("show") === "away"));
    expect(back.getChildText("status")).toBe("At lunch");

    const roster = await bob.iq(xml("iq", { type: "get" }, xml("query", { xmlns: "jabber:iq:roster" })));
    expect(roster.getChild("query")!.getChildren("item").map((i) => [i.attrs.jid, i.attrs.subscription])).toEqual([["alice@partner-a.test", "both"]]);
  });

  it("delivers a partner's message in and a user's message out (with the shipped disclaimer)", async () => {
    await alice.message("bob@corp.test", "hello bob, from prosody", "in-1");
    const got = await orDump(bob.waitFor(isMsg("hello bob, from prosody")));
    expect(got.attrs.from).toMatch(/^alice@partner-a\.test\//);

    await bob.send(xml("message", { to: "alice@partner-a.test", type: "chat", id: "out-1" }, xml("body", {}, "hello alice, from demarc")));
    const out = await orDump(alice.waitFor((el) => el.name === "message" && (el.getChildText("body") ?? "").startsWith("hello alice, from demarc")));
    expect(out.attrs.from).toBe("bob@corp.test/desk");
    // policies/40-partner-disclaimer.yaml appends its text to every message to a partner.
    expect(out.getChildText("body")).toContain("This message is confidential and may be monitored and archived.");
  });

  it("refuses a partner's message with the blocked phrase: not delivered, policy-violation with the rule's text back to the sender", async () => {
    await alice.message("bob@corp.test", `here are the ${BLOCKED_PHRASE} you asked for`, "in-blocked");
    const err = await orDump(alice.waitFor((el) => el.name === "message" && el.attrs.type === "error" && el.attrs.id === "in-blocked"));
    expect(err.attrs.from).toBe("bob@corp.test");
    const e = err.getChild("error")!;
    expect(e.getChild("policy-violation", "urn:ietf:params:xml:ns:xmpp-stanzas")).toBeTruthy();
    expect(e.getChildText("text", "urn:ietf:params:xml:ns:xmpp-stanzas")).toBe(BLOCK_REASON);
    // A message sent after the blocked one arrives, and the blocked one never did.
    await alice.message("bob@corp.test", "after the refusal", "in-2");
    await orDump(bob.waitFor(isMsg("after the refusal")));
    expect(bob.all((el) => el.name === "message" && (el.getChildText("body") ?? "").includes(BLOCKED_PHRASE))).toEqual([]);
  });

  it("redacts a Luhn-valid card number in a partner's message (policies/20-card-redaction.yaml)", async () => {
    await alice.message("bob@corp.test", `my card is ${CARD} thanks`, "in-card");
    const got = await orDump(bob.waitFor((el) => el.name === "message" && (el.getChildText("body") ?? "").startsWith("my card is")));
    expect(got.getChildText("body")).toBe("my card is [card number removed] thanks");
  });

  it("refuses a user's message with a shipped DLP code name before it leaves (policies/10-dlp-block.yaml)", async () => {
    await bob.send(xml("message", { to: "alice@partner-a.test", type: "chat", id: "out-dlp" }, xml("body", {}, "status of Project Falcon?")));
    const err = await orDump(bob.waitFor((el) => el.name === "message" && el.attrs.type === "error" && el.attrs.id === "out-dlp"));
    const e = err.getChild("error")!;
    expect(e.getChild("policy-violation", "urn:ietf:params:xml:ns:xmpp-stanzas")).toBeTruthy();
    expect(e.getChildText("text", "urn:ietf:params:xml:ns:xmpp-stanzas")).toBe("Confidential project names may not be shared outside the company.");
    await bob.send(xml("message", { to: "alice@partner-a.test", type: "chat", id: "out-2" }, xml("body", {}, "second message out")));
    await orDump(alice.waitFor((el) => (el.getChildText("body") ?? "").startsWith("second message out")));
    expect(alice.received.filter((el) => (el.getChildText("body") ?? "").includes("Falcon"))).toEqual([]);
  });

  it("keeps a partner's message for an offline user and delivers it at login", async () => {
    await alice.message("carol@corp.test", "for carol while away", "in-offline");
    // carol logs in only once the gateway says it stored the message for her.
    await until(async () => sample(await metrics(), "demarc_core_offline_stored") >= 1, 5_000, "the gateway to store the message offline").catch(() => undefined);
    expect(sample(await metrics(), "demarc_core_offline_stored")).toBe(1);
    const carol = await login({ address: DEMARC, caPem: caPem }, "carol", { password: PW.carol, resource: "laptop" });
    try {
      await carol.send(xml("presence"));
      const got = await orDump(carol.waitFor(isMsg("for carol while away")));
      expect(got.attrs.from).toMatch(/^alice@partner-a\.test\//);
      // Internal traffic crosses the router too.
      await carol.send(xml("message", { to: "bob@corp.test", type: "chat", id: "int-1" }, xml("body", {}, "internal hello to bob")));
      await orDump(bob.waitFor(isMsg("internal hello to bob")));
    } finally {
      await carol.stop();
    }
  });

  it("shows a partner going offline", async () => {
    // bob saw alice unavailable once before she subscribed; only a new one counts.
    const before = bob.received.length;
    await alice.presence({ type: "unavailable" });
    await orDump(bob.waitFor((el) => bob.received.indexOf(el) >= before && el.name === "presence" && fromAlice(el) && el.attrs.type === "unavailable"));
  });

  it("counts s2s stanzas and archive records on /metrics", async () => {
    // The archive writer moves journal batches into the database shortly after delivery.
    const text = await until(async () => {
      const t = await metrics();
      return sample(t, "demarc_archive_records_written_total") >= 5 && t;
    }, 5_000, "5 archive records written").catch(metrics);
    expect(sample(text, "demarc_s2s_stanzas_total", { direction: "inbound" })).toBeGreaterThan(0);
    expect(sample(text, "demarc_s2s_stanzas_total", { direction: "outbound" })).toBeGreaterThan(0);
    expect(sample(text, "demarc_archive_records_written_total")).toBeGreaterThanOrEqual(5);
  });

  it("stops cleanly on SIGTERM with exit code 0", async () => {
    await bob.stop();
    const r = await gw.stop(15_000);
    exitCode = r.code;
    expect(r, gw.stderr).toEqual({ code: 0, signal: null });
  });

  it("archive search finds every message with its verdict, and the chain verifies", async () => {
    expect(exitCode).toBe(0);
    const rows = await search(["--domain", "partner-a.test", "--kind", "message"]);
    const byBody = (start: string) => rows.find((r) => (r.body ?? "").startsWith(start));

    const inbound = byBody("hello bob, from prosody");
    expect(inbound).toMatchObject({ direction: "inbound", verdict: "allow", partner: "partner-a.test", to: "bob@corp.test" });
    expect(inbound!.from).toMatch(/^alice@partner-a\.test/);
    expect(inbound!.auth).toBe("certificate");

    const outbound = byBody("hello alice, from demarc");
    expect(outbound).toMatchObject({ direction: "outbound", verdict: "allow", partner: "partner-a.test", to: "alice@partner-a.test" });

    const blocked = byBody("here are the launch codes");
    expect(blocked).toMatchObject({ direction: "inbound", verdict: "block", ruleId: "e2e-block-launch-codes" });
    expect((await search(["--verdict", "block"])).map((r) => r.ruleId).sort()).toEqual(["dlp-project-codenames", "e2e-block-launch-codes"]);

    const card = byBody("my card is");
    expect(card).toMatchObject({ direction: "inbound", verdict: "allow", ruleId: "redact-payment-cards" });
    expect(card!.deliveredBody).toBe("my card is [card number removed] thanks");

    const dlp = byBody("status of Project Falcon");
    expect(dlp).toMatchObject({ direction: "outbound", verdict: "block", ruleId: "dlp-project-codenames" });
    expect(byBody("for carol while away")).toMatchObject({ direction: "inbound", verdict: "allow", to: "carol@corp.test" });
    const internal = (await search(["--direction", "internal", "--kind", "message"])).find((r) => r.body === "internal hello to bob");
    expect(internal).toMatchObject({ verdict: "allow", to: "bob@corp.test" });
    expect(internal!.from).toMatch(/^carol@corp\.test/);

    const text = await search(["--text", `"${BLOCKED_PHRASE}"`]);
    expect(text.map((r) => r.verdict)).toEqual(["block"]);

    const verify = await op.demarc(["archive", "verify"], { allowFail: true });
    expect(verify.code, `${verify.stdout}\n${verify.stderr}`).toBe(0);
  });
});
