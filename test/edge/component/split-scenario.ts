/**
 * Split mode with real servers, shared by the Prosody and ejabberd test
 * files: the `demarc` binary in mode edge federates over s2s with a partner
 * Prosody (partner-a.test) and holds an XEP-0114 component stream for
 * partner-a.test on an internal server that hosts the company's users
 * (corp.test), configured from `demarc edge internal-config`. Users on both
 * sides are real c2s clients. Every message crosses the shipped compliance
 * policies and the archive; the internal server going away and coming back
 * is survived.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DemarcProcess } from "../../helpers/demarc.js";
import { createTestCa, type TestCa } from "../../helpers/ca.js";
import { startDnsServer, type DnsServerHandle } from "../../helpers/dns-server.js";
import { startProsody, type ProsodyHandle } from "../../helpers/prosody.js";
import { startEjabberd } from "../../helpers/ejabberd.js";
import { loginPartnerUser, type PartnerUser } from "../../helpers/xmpp-client.js";
import type { Operator } from "../../e2e/operator.js";
import { ADMIN_PORT, COMPONENT_PORT, S2S_PORT, archivedRows, edgeOperator, startEdge } from "./harness.js";
import { xml, type Element } from "../../../src/xmpp/xml.js";

export interface Addresses {
  edge: string;
  dns: string;
  internal: string;
  peer: string;
}

const SECRET = "component-secret-for-tests";
const CARD = "4111 1111 1111 1111";
const STANZAS = "urn:ietf:params:xml:ns:xmpp-stanzas";

export function splitScenario(kind: "prosody" | "ejabberd", a: Addresses): void {
  const EDGE = a.edge;
  const DNS_ADDR = a.dns;
  const INTERNAL = a.internal;
  const PEER = a.peer;
  let dns: DnsServerHandle;
  let ca: TestCa;
  let partner: ProsodyHandle;
  let internal: { stop(): Promise<void>; log(): string };
  let op: Operator;
  let edge: DemarcProcess;
  let alice: PartnerUser; // on the internal server
  let declarations = "";
  let secretFile = "";
  let bob: PartnerUser; // on the partner's Prosody
  let desk: PartnerUser; // the supervision desk, on the internal server

  function startInternal(): Promise<{ stop(): Promise<void>; log(): string }> {
    if (kind === "ejabberd") {
      return startEjabberd({
        domain: "corp.test",
        address: INTERNAL,
        ca,
        dnsServer: dns.server,
        users: { alice: "pw", desk: "pw" },
        distPort: 15391,
        hosts: {},
        // What `demarc edge internal-config --server ejabberd --secret-file` printed and wrote.
        extraListen: declarations,
        files: { "demarc-secret.yml": secretFile },
        extraConfig: (dir) => `include_config_file: "${dir}/demarc-secret.yml"`,
      });
    }
    return startProsody({
      domain: "corp.test",
      address: INTERNAL,
      ca,
      dnsServer: dns.server,
      secureAuth: true,
      users: { alice: "pw", desk: "pw" },
      // What `demarc edge internal-config --server prosody` printed; Prosody reads the secret from its environment.
      extra: declarations,
      env: { DEMARC_COMPONENT_SECRET: SECRET },
    });
  }

  beforeAll(async () => {
    process.env.DEMARC_COMPONENT_SECRET = SECRET;
    dns = await startDnsServer(DNS_ADDR, {
      a: { "corp.test": [EDGE], "partner-a.test": [PEER] },
      srv: {
        "_xmpp-server._tcp.corp.test": [{ priority: 10, weight: 1, port: S2S_PORT, target: "corp.test" }],
        "_xmpp-server._tcp.partner-a.test": [{ priority: 10, weight: 1, port: 15269, target: "partner-a.test" }],
      },
    });
    const caDir = join(process.env.TMPDIR ?? "/tmp", `demarc-split-${kind}-ca-${process.pid}`);
    mkdirSync(caDir, { recursive: true });
    ca = createTestCa(caDir);
    op = await edgeOperator({
      address: EDGE,
      ca,
      dns: dns.server,
      internal: { host: INTERNAL },
      edge: { reconnect_max_ms: 1_000, deliver_wait_ms: 1_000 },
    });
    // The supervision desk gets a copy of what is sent to this partner about deals.
    writeFileSync(
      join(op.dir, "policies", "45-copy-deals.yaml"),
      'kind: policy\nrules:\n  - id: copy-deals\n    when:\n      direction: outbound\n      kind: message\n      partners: ["partner-a.test"]\n      words: ["deal terms"]\n    then:\n      action: copy\n      to: desk@corp.test\n',
    );
    const secretPath = join(op.dir, "demarc-secret.yml");
    declarations = (await op.demarc(["edge", "internal-config", "--server", kind, ...(kind === "ejabberd" ? ["--secret-file", secretPath] : [])])).stdout;
    expect(declarations).not.toContain(SECRET);
    if (kind === "ejabberd") secretFile = readFileSync(secretPath, "utf8");
    [partner, internal] = await Promise.all([
      startProsody({ domain: "partner-a.test", address: PEER, ca, dnsServer: dns.server, secureAuth: true, users: { bob: "pw" } }),
      startInternal(),
    ]);
    edge = startEdge(op);
    await edge.waitForLog((l) => l.msg === "demarc started", 20_000);
    await edge.waitForLog((l) => l.msg === "component stream online", 10_000);
    [alice, bob, desk] = await Promise.all([
      loginPartnerUser({ address: INTERNAL, domain: "corp.test", username: "alice", password: "pw", caPem: ca.certPem }),
      loginPartnerUser({ address: PEER, domain: "partner-a.test", username: "bob", password: "pw", caPem: ca.certPem }),
      loginPartnerUser({ address: INTERNAL, domain: "corp.test", username: "desk", password: "pw", caPem: ca.certPem }),
    ]);
    // Available resources receive messages to the bare address (RFC 6121 section 8.5.2.1.1).
    await Promise.all([alice.presence(), bob.presence(), desk.presence()]);
  }, 90_000);

  afterAll(async () => {
    await Promise.all([alice?.stop(), bob?.stop(), desk?.stop()]);
    await edge?.stop();
    await Promise.all([partner?.stop(), internal?.stop()]);
    await dns?.close();
  });

  const dump = () =>
    `\n--- demarc ---\n${edge.logs.slice(-20).map((l) => JSON.stringify(l)).join("\n")}\n${edge.stderr}\n--- internal ---\n${internal.log().slice(-2500)}\n--- partner ---\n${partner.log().slice(-2500)}`;
  const orDump = <T>(p: Promise<T>) => p.catch((err: Error) => Promise.reject(new Error(`${err.message}${dump()}`)));
  const body = (el: Element) => el.getChildText("body") ?? "";

  describe(`mode edge in front of an internal ${kind}, federating with a partner Prosody`, () => {
    it("carries an internal user's message through the component stream out over s2s, with the partner disclaimer", async () => {
      await alice.message("bob@partner-a.test", "hello bob, from inside", "out-1");
      const got = await orDump(bob.waitFor((el) => el.name === "message" && body(el).startsWith("hello bob, from inside")));
      expect(got.attrs.from).toMatch(/^alice@corp\.test\//);
      expect(body(got)).toContain("This message is confidential and may be monitored and archived.");
    });

    it("carries a partner's message in over s2s and into the internal server with the partner's address", async () => {
      await bob.message("alice@corp.test", "hello alice, from the partner", "in-1");
      const got = await orDump(alice.waitFor((el) => el.name === "message" && body(el) === "hello alice, from the partner"));
      expect(got.attrs.from).toMatch(/^bob@partner-a\.test\//);
      expect(got.attrs.id).toBe("in-1");
    });

    it("redacts a card number in a partner's message before the internal server sees it", async () => {
      await bob.message("alice@corp.test", `my card is ${CARD} thanks`, "in-card");
      const got = await orDump(alice.waitFor((el) => el.name === "message" && body(el).startsWith("my card is")));
      expect(body(got)).toBe("my card is [card number removed] thanks");
    });

    it("blocks an internal user's message with a DLP code name: policy-violation back through the component", async () => {
      await alice.message("bob@partner-a.test", "status of Project Falcon?", "out-dlp");
      const err = await orDump(alice.waitFor((el) => el.name === "message" && el.attrs.type === "error" && el.attrs.id === "out-dlp"));
      expect(err.attrs.from).toBe("bob@partner-a.test");
      expect(err.getChild("error")?.getChild("policy-violation", STANZAS)).toBeTruthy();
      await alice.message("bob@partner-a.test", "second message out", "out-2");
      await orDump(bob.waitFor((el) => body(el).startsWith("second message out")));
      expect(bob.received.filter((el) => body(el).includes("Falcon"))).toEqual([]);
    });

    it("delivers a compliance copy of an internal user's message to the supervision desk through the component", async () => {
      await alice.message("bob@partner-a.test", "the deal terms are attached", "out-copy");
      await orDump(bob.waitFor((el) => body(el).startsWith("the deal terms are attached")));
      const copy = await orDump(desk.waitFor((el) => el.name === "message" && body(el).startsWith("the deal terms are attached")));
      // From the component's domain (the internal server takes no other on that stream), naming the sender (XEP-0033 ofrom).
      expect(copy.attrs.from).toBe("partner-a.test");
      const ofrom = copy.getChild("addresses", "http://jabber.org/protocol/address")?.getChildren("address").find((a) => a.attrs.type === "ofrom");
      expect(ofrom?.attrs.jid).toMatch(/^alice@corp\.test/);
      expect(desk.received.filter((el) => body(el).startsWith("hello bob"))).toEqual([]);
    });

    it("carries a subscription and presence both ways across the boundary", async () => {
      const isPresence = (type: string | undefined, from: string) => (el: Element) =>
        el.name === "presence" && el.attrs.type === type && (el.attrs.from ?? "").startsWith(from);
      await alice.send(xml("presence", { to: "bob@partner-a.test", type: "subscribe" }));
      await orDump(bob.waitFor(isPresence("subscribe", "alice@corp.test")));
      await bob.send(xml("presence", { to: "alice@corp.test", type: "subscribed" }));
      await bob.send(xml("presence", { to: "alice@corp.test", type: "subscribe" }));
      await orDump(alice.waitFor(isPresence("subscribe", "bob@partner-a.test")));
      await alice.send(xml("presence", { to: "bob@partner-a.test", type: "subscribed" }));

      await bob.presence({}, [xml("show", {}, "dnd"), xml("status", {}, "In a meeting")]);
      const seen = await orDump(alice.waitFor((el) => isPresence(undefined, "bob@partner-a.test/")(el) && el.getChildText("show") === "dnd"));
      expect(seen.getChildText("status")).toBe("In a meeting");
      await alice.presence({}, [xml("show", {}, "away")]);
      await orDump(bob.waitFor((el) => isPresence(undefined, "alice@corp.test/")(el) && el.getChildText("show") === "away"));
    });

    it("reports the component link on /readyz and /api/edge/links", async () => {
      const ready = await fetch(`http://${EDGE}:${ADMIN_PORT}/readyz`);
      expect(ready.status).toBe(200);
      const links = (await (await fetch(`http://${EDGE}:${ADMIN_PORT}/api/edge/links`)).json()) as { name: string; state: string }[];
      expect(links).toEqual([{ name: `partner-a.test@${INTERNAL}:${COMPONENT_PORT}`, state: "online", problem: null }]);
    });

    it("answers partners with remote-server-timeout while the internal server is down, and reconnects when it is back", async () => {
      // Alice logs in again once it is back. Her client is stopped first: @xmpp/connection can throw
      // from its socket's data handler (its parser already gone) when its server goes away under it.
      await alice.stop();
      await internal.stop();
      await orDump(edge.waitForLog((l) => l.msg === "component stream lost", 10_000));
      const ready = await fetch(`http://${EDGE}:${ADMIN_PORT}/readyz`);
      expect(ready.status).toBe(503);
      const problems = ((await ready.json()) as { problems: Record<string, string> }).problems;
      expect(Object.keys(problems)).toEqual([`component partner-a.test@${INTERNAL}:${COMPONENT_PORT}`]);

      const sent = Date.now();
      await bob.message("alice@corp.test", "while the inside is down", "in-down");
      const err = await orDump(bob.waitFor((el) => el.name === "message" && el.attrs.type === "error" && el.attrs.id === "in-down"));
      expect(Date.now() - sent).toBeLessThan(8_000);
      expect(err.getChild("error")?.getChild("remote-server-timeout", STANZAS)).toBeTruthy();

      const seen = edge.logs.length;
      internal = await startInternal();
      await orDump(edge.waitForLog((l) => l.msg === "component stream online" && edge.logs.indexOf(l) >= seen, 15_000));
      alice = await loginPartnerUser({ address: INTERNAL, domain: "corp.test", username: "alice", password: "pw", caPem: ca.certPem });
      await alice.presence();
      await bob.message("alice@corp.test", "after the restart", "in-back");
      await orDump(alice.waitFor((el) => el.name === "message" && body(el) === "after the restart"));
    }, 60_000);

    it("archives every message with its verdict", async () => {
      const r = await edge.stop(15_000);
      expect(r).toEqual({ code: 0, signal: null });
      const rows = await archivedRows(op, ["--domain", "partner-a.test", "--kind", "message"]);
      const byBody = (s: string) => rows.find((r) => String(r.body ?? "").startsWith(s));
      expect(byBody("hello bob, from inside")).toMatchObject({ direction: "outbound", verdict: "allow", to: "bob@partner-a.test" });
      expect(byBody("hello alice, from the partner")).toMatchObject({ direction: "inbound", verdict: "allow", to: "alice@corp.test" });
      expect(byBody("my card is")).toMatchObject({ direction: "inbound", ruleId: "redact-payment-cards", deliveredBody: "my card is [card number removed] thanks" });
      expect(byBody("status of Project Falcon")).toMatchObject({ direction: "outbound", verdict: "block", ruleId: "dlp-project-codenames" });
      expect(byBody("after the restart")).toMatchObject({ direction: "inbound", verdict: "allow" });
      const subRows = await archivedRows(op, ["--kind", "subscription"]);
      expect(subRows.filter((r) => r.direction === "outbound").length).toBeGreaterThanOrEqual(2);
      expect(subRows.filter((r) => r.direction === "inbound").length).toBeGreaterThanOrEqual(2);
    });
  });
}
