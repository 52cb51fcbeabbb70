/**
 * A SIP partner in front of an internal Prosody: the gateway in mode edge
 * (compliance, archive, SIP edge, component links) holds the component
 * stream for the SIP partner's domain on the internal Prosody. The partner's
 * MESSAGE reaches a Prosody user as chat from the partner's address; the
 * user's reply leaves as a SIP MESSAGE; a blocked MESSAGE is a 403; the user's
 * subscription becomes a SIP SUBSCRIBE and the partner's PIDF comes back as
 * presence mapped for the AOL profile.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtempSync, mkdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { configSchema } from "../../../src/config/schema.js";
import { Gateway } from "../../../src/gateway/gateway.js";
import { compose, type Composition } from "../../../src/gateway/modules.js";
import { createLogger } from "../../../src/log.js";
import { xml, type Element } from "../../../src/xmpp/index.js";
import { createTestCa } from "../../helpers/ca.js";
import { startDnsServer, type DnsServerHandle } from "../../helpers/dns-server.js";
import { startProsody, type ProsodyHandle } from "../../helpers/prosody.js";
import { loginPartnerUser, type PartnerUser } from "../../helpers/xmpp-client.js";
import { PartnerUa, utf8 } from "../sip/partner-ua.js";
import { runSipp } from "../../helpers/sipp.js";
import { COMPONENT_PORT, prosodyComponent } from "./harness.js";

const EDGE = "127.0.15.150";
const INTERNAL = "127.0.15.151";
const UA = "127.0.15.152";
const DNS_ADDR = "127.0.15.154";
const SIP_PORT = 15070;
const SECRET = "sip-component-secret";
const PIDF_ON_THE_PHONE = `<?xml version="1.0" encoding="UTF-8"?>
<presence xmlns="urn:ietf:params:xml:ns:pidf" xmlns:dm="urn:ietf:params:xml:ns:pidf:data-model" xmlns:rpid="urn:ietf:params:xml:ns:pidf:rpid" entity="sip:alice@partner.test">
<tuple id="t1"><status><basic>open</basic></status></tuple>
<dm:person id="p1"><rpid:activities><rpid:on-the-phone/></rpid:activities><dm:note>with a customer</dm:note></dm:person>
</presence>`;

let gateway: Gateway;
let wired: Composition;
let dns: DnsServerHandle;
let internal: ProsodyHandle;
let alice: PartnerUa;
let bob: PartnerUser;
const sipTarget = { host: EDGE, port: SIP_PORT };

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), "demarc-split-sip-"));
  const ca = createTestCa(join(dir, "ca"));
  const leaf = ca.issue({ name: "corp", domains: ["corp.test"], xmppAddrs: ["corp.test"] });
  const policies = join(dir, "policies");
  mkdirSync(policies);
  writeFileSync(
    join(policies, "10-inbound.yaml"),
    'kind: policy\nrules:\n  - id: inbound-codenames\n    when:\n      direction: inbound\n      kind: [message]\n      words: ["Project Falcon"]\n    then:\n      action: block\n      reason: "Project names may not be received from partners (no-codenames)."\n',
  );
  alice = new PartnerUa(UA, "alice", "partner.test");
  await alice.start();
  alice.pidf = PIDF_ON_THE_PHONE;
  dns = await startDnsServer(DNS_ADDR, {
    srv: { "_sip._tcp.partner.test": [{ priority: 0, weight: 0, port: alice.port, target: "sip.partner.test" }] },
    a: { "sip.partner.test": [UA] },
  });
  internal = await startProsody({
    domain: "corp.test",
    address: INTERNAL,
    ca,
    dnsServer: dns.server,
    secureAuth: true,
    users: { bob: "pw" },
    extra: prosodyComponent(INTERNAL, SECRET, "partner.test"),
  });
  const parsed = configSchema.parse({
    mode: "edge",
    domains: ["corp.test"],
    data_dir: join(dir, "data"),
    log: { level: process.env.DEMARC_TEST_LOG ?? "silent", format: "json" },
    admin: { enabled: false },
    policy: { dir: policies, watch: false },
    tls: { dir: join(dir, "certs"), certificates: [{ cert: leaf.certPath, key: leaf.keyPath }], trust: { system: false, ca_files: [ca.certPath] } },
    dns: { servers: [dns.server], timeout_ms: 500 },
    partners: [{ domain: "partner.test", protocol: "sip", profile: "aol" }],
    sip: { tcp: { enabled: true, host: EDGE, port: SIP_PORT }, trust_plain_transports: true, timers: { t1_ms: 100, t2_ms: 400 } },
    s2s: { starttls: { enabled: false }, direct_tls: { enabled: false } },
    edge: { internal: [{ domains: ["corp.test"], host: INTERNAL, port: COMPONENT_PORT, secret: SECRET }] },
  });
  wired = compose("edge");
  gateway = new Gateway({ ...parsed, baseDir: dir, source: undefined }, createLogger({ level: parsed.log.level, format: "json" }), wired.modules);
  await gateway.start();
  bob = await loginPartnerUser({ address: INTERNAL, domain: "corp.test", username: "bob", password: "pw", caPem: ca.certPem });
  await bob.send(xml("iq", { type: "get", id: "r1" }, xml("query", { xmlns: "jabber:iq:roster" })));
  await bob.presence();
}, 60_000);

afterAll(async () => {
  await bob?.stop();
  await gateway?.close();
  await internal?.stop();
  await alice?.close();
  await dns?.close();
});

const dump = () => `\n--- internal ---\n${internal.log().slice(-3000)}`;
const orDump = <T>(p: Promise<T>) => p.catch((err: Error) => Promise.reject(new Error(`${err.message}${dump()}`)));

describe("SIP partner <-> user on an internal Prosody, through mode edge", () => {
  it("the partner's MESSAGE reaches the Prosody user as chat from the partner's address; a blocked one is a 403", async () => {
    await alice.send(sipTarget, { method: "MESSAGE", to: "sip:bob@corp.test", body: "Hi Bob, grüße from SIP" });
    const ok = await alice.waitFor("responses", (m) => m.headers.cseq?.method === "MESSAGE");
    expect(ok.status).toBe(200);
    const msg = await orDump(bob.waitFor((el: Element) => el.name === "message" && el.getChildText("body") === "Hi Bob, grüße from SIP"));
    expect(msg.attrs.from).toMatch(/^alice@partner\.test/);

    alice.responses.length = 0;
    await alice.send(sipTarget, { method: "MESSAGE", to: "sip:bob@corp.test", body: "about Project Falcon" });
    const blocked = await alice.waitFor("responses", (m) => m.headers.cseq?.method === "MESSAGE");
    expect(blocked.status).toBe(403);
    expect(String(blocked.headers.warning)).toContain("Project names may not be received from partners (no-codenames).");
    expect(bob.received.filter((el) => (el.getChildText("body") ?? "").includes("Falcon"))).toEqual([]);
  });

  it("SIPp as the partner's peer: its MESSAGE reaches the Prosody user, its blocked one gets 403", async () => {
    const r = await runSipp({ scenario: "message-uac.xml", remote: `${EDGE}:${SIP_PORT}`, transport: "t1", localIp: "127.0.15.155", service: "bob", keys: { text: "hello from sipp" } });
    expect(r.code, r.report).toBe(0);
    const msg = await orDump(bob.waitFor((el) => el.name === "message" && (el.getChildText("body") ?? "").trim() === "hello from sipp"));
    expect(msg.attrs.from).toMatch(/^alice@partner\.test/);
    const b = await runSipp({ scenario: "message-blocked-uac.xml", remote: `${EDGE}:${SIP_PORT}`, transport: "t1", localIp: "127.0.15.155", service: "bob", keys: { text: "about Project Falcon" } });
    expect(b.code, b.report).toBe(0);
  });

  it("the Prosody user's message leaves as a SIP MESSAGE", async () => {
    await bob.message("alice@partner.test", "Hello Alice \u2713");
    const m = await orDump(alice.waitFor("requests", (r) => r.method === "MESSAGE"));
    expect(m.headers.from?.uri).toBe("sip:bob@corp.test");
    expect(utf8(m.content)).toBe("Hello Alice \u2713");
  });

  it("the Prosody user's subscription becomes a SUBSCRIBE; the partner's presence comes back mapped", async () => {
    await bob.send(xml("presence", { to: "alice@partner.test", type: "subscribe" }));
    const sub = await orDump(alice.waitFor("requests", (m) => m.method === "SUBSCRIBE"));
    expect(sub.headers.from?.uri).toBe("sip:bob@corp.test");
    const p = await orDump(bob.waitFor((el) => el.name === "presence" && (el.attrs.from ?? "").startsWith("alice@partner.test") && !el.attrs.type));
    expect(p.getChildText("show")).toBe("dnd");
    expect(p.getChildText("status")).toBe("On the phone: with a customer");
  });

  it("the partner subscribes to the Prosody user; once approved, NOTIFY carries the user's presence for AOL", async () => {
    await alice.send(sipTarget, { method: "SUBSCRIBE", to: "sip:bob@corp.test", headers: { event: "presence", accept: "application/pidf+xml", expires: "600" } });
    const ok = await alice.waitFor("responses", (m) => m.headers.cseq?.method === "SUBSCRIBE");
    expect(ok.status).toBe(200);
    await orDump(bob.waitFor((el) => el.name === "presence" && el.attrs.from === "alice@partner.test" && el.attrs.type === "subscribe"));
    await bob.send(xml("presence", { to: "alice@partner.test", type: "subscribed" }));
    await bob.presence({}, [xml("show", {}, "dnd")]);
    // Table 20-2: do-not-disturb is Away for AOL.
    const away = await orDump(alice.waitFor("requests", (m) => m.method === "NOTIFY" && utf8(m.content).includes("<rpid:away/>")));
    expect(utf8(away.content)).toContain("<basic>open</basic>");
  });

  it("archives the partner's messages with their verdicts", async () => {
    const archive = wired.archive.service!;
    const deadline = Date.now() + 5_000;
    let found: { protocol: string; verdict: string; body: string | null }[] = [];
    while (Date.now() < deadline) {
      found = await archive.store.find({ participant: "alice@partner.test", kind: "message" }, { limit: 10 });
      if (found.length >= 5) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    // SIPp's bodies end with a line break.
    expect(found.map((r) => [r.protocol, r.verdict, r.body?.trim()]).sort()).toEqual(
      [
        ["sip", "allow", "Hi Bob, grüße from SIP"],
        ["sip", "allow", "hello from sipp"],
        ["sip", "block", "about Project Falcon"],
        ["sip", "block", "about Project Falcon"],
        ["xmpp", "allow", "Hello Alice \u2713"],
      ].sort(),
    );
  });
});
