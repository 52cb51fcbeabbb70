/**
 * Interop with a real Prosody 0.12 in both directions: partner-a.test
 * federates with certificates (SASL EXTERNAL), partner-b.test with dialback;
 * partner-x.test and partner-w.test hold certificates that must be refused.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createTestCa } from "../../helpers/ca.js";
import { startDnsServer, type DnsServerHandle } from "../../helpers/dns-server.js";
import { startProsody, type ProsodyHandle } from "../../helpers/prosody.js";
import { loginPartnerUser, type PartnerUser } from "../../helpers/xmpp-client.js";
import { startTestGateway, type TestGateway } from "../../helpers/xmpp-gateway.js";
import { xml } from "../../../src/xmpp/xml.js";

const DEMARC = "127.0.3.1";
const DNS_ADDR = "127.0.3.2";
const PEER_A = "127.0.3.11";
const PEER_B = "127.0.3.12";
const DOWN = "127.0.3.13"; // nothing listens here
const PEER_X = "127.0.3.14"; // a partner whose certificate comes from a CA we do not trust
const PEER_W = "127.0.25.1"; // a partner whose certificate, from the trusted CA, names another partner

let dns: DnsServerHandle;
let gw: TestGateway;
let peerA: ProsodyHandle;
let peerB: ProsodyHandle;
let alice: PartnerUser;
let carol: PartnerUser;
let peerX: ProsodyHandle;
let xavier: PartnerUser;
let peerW: ProsodyHandle;
let wendy: PartnerUser;

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), "s2s-prosody-"));
  const ca = createTestCa(join(dir, "ca"));
  const own = ca.issue({ name: "corp", domains: ["corp.test"] });
  // Not the standard ports (a system Prosody may hold *:5269): SRV records lead each side to the other.
  dns = await startDnsServer(DNS_ADDR, {
    a: { "corp.test": [DEMARC], "partner-a.test": [PEER_A], "partner-b.test": [PEER_B], "partner-x.test": [PEER_X], "partner-w.test": [PEER_W], "down.partner-a.test": [DOWN] },
    srv: {
      "_xmpp-server._tcp.corp.test": [{ priority: 10, weight: 1, port: 15269, target: "corp.test" }],
      // Two targets, the first down: demarc fails over to the second.
      "_xmpp-server._tcp.partner-a.test": [
        { priority: 5, weight: 1, port: 15269, target: "down.partner-a.test" },
        { priority: 10, weight: 1, port: 15269, target: "partner-a.test" },
      ],
      "_xmpp-server._tcp.partner-x.test": [{ priority: 10, weight: 1, port: 15269, target: "partner-x.test" }],
      "_xmpp-server._tcp.partner-w.test": [{ priority: 10, weight: 1, port: 15269, target: "partner-w.test" }],
      "_xmpp-server._tcp.partner-b.test": [{ priority: 10, weight: 1, port: 15269, target: "partner-b.test" }],
      // partner-b also offers direct TLS (XEP-0368), which demarc prefers.
      "_xmpps-server._tcp.partner-b.test": [{ priority: 10, weight: 1, port: 15270, target: "partner-b.test" }],
    },
  });
  const rogue = createTestCa(join(dir, "rogue"));
  [peerA, peerB, peerX, peerW] = await Promise.all([
    startProsody({ domain: "partner-a.test", address: PEER_A, ca, dnsServer: dns.server, secureAuth: true, users: { alice: "pw" } }),
    startProsody({ domain: "partner-b.test", address: PEER_B, ca, dnsServer: dns.server, secureAuth: false, users: { carol: "pw" }, s2sDirectTlsPort: 15270 }),
    startProsody({ domain: "partner-x.test", address: PEER_X, ca, certCa: rogue, dnsServer: dns.server, secureAuth: true, users: { xavier: "pw" } }),
    // The name of a partner demarc does trust: a trusted chain alone must not let one partner speak as another.
    startProsody({ domain: "partner-w.test", address: PEER_W, ca, certDomains: ["partner-a.test"], dnsServer: dns.server, secureAuth: true, users: { wendy: "pw" } }),
  ]);
  gw = await startTestGateway({
    domains: ["corp.test"],
    tls: { certificates: [{ cert: own.certPath, key: own.keyPath }], trust: { system: false, ca_files: [ca.certPath] } },
    dns: { servers: [dns.server], timeout_ms: 1000 },
    s2s: { starttls: { host: DEMARC, port: 15269 }, direct_tls: { host: DEMARC, port: 15270 } },
    partners: [
      { domain: "partner-a.test", auth: ["certificate"] },
      { domain: "partner-b.test", auth: ["dialback"] },
      { domain: "partner-x.test", auth: ["certificate"] },
      { domain: "partner-w.test", auth: ["certificate"] },
    ],
  });
  [alice, carol, xavier, wendy] = await Promise.all([
    loginPartnerUser({ address: PEER_A, domain: "partner-a.test", username: "alice", password: "pw", caPem: ca.certPem }),
    loginPartnerUser({ address: PEER_B, domain: "partner-b.test", username: "carol", password: "pw", caPem: ca.certPem }),
    loginPartnerUser({ address: PEER_X, domain: "partner-x.test", username: "xavier", password: "pw", caPem: rogue.certPem }),
    loginPartnerUser({ address: PEER_W, domain: "partner-w.test", username: "wendy", password: "pw", caPem: ca.certPem, certName: "partner-a.test" }),
  ]);
});

afterAll(async () => {
  await Promise.all([alice?.stop(), carol?.stop(), xavier?.stop(), wendy?.stop()]);
  await gw?.close();
  await Promise.all([peerA?.stop(), peerB?.stop(), peerX?.stop(), peerW?.stop()]);
  await dns?.close();
});

function dump(): string {
  return `\ndns queries: ${dns.queries.join(", ")}\n--- prosody a ---\n${peerA.log().slice(-4000)}\n--- prosody b ---\n${peerB.log().slice(-4000)}`;
}

describe("s2s with Prosody", () => {
  it("takes a message from a certificate partner over SASL EXTERNAL", async () => {
    await alice.message("bob@corp.test", "hello from a", "m1");
    const env = await gw.sink.waitFor((e) => e.body === "hello from a").catch((err) => {
      throw new Error(`${(err as Error).message}${dump()}`);
    });
    expect(env).toMatchObject({ direction: "inbound", kind: "message", to: "bob@corp.test", partnerDomain: "partner-a.test", type: "chat" });
    expect(env.from).toMatch(/^alice@partner-a\.test\//);
    expect(env.security?.auth).toBe("certificate");
    expect(env.security?.tlsVersion).toMatch(/^TLSv1\.[23]$/);
  });

  it("delivers a message to the certificate partner", async () => {
    const r = await gw.route({ kind: "message", from: "bob@corp.test/desk", to: alice.jid, type: "chat", body: "hello to a" });
    expect(r.delivered).toBe(true);
    const got = await alice.waitFor((el) => el.getChildText("body") === "hello to a").catch((err) => {
      throw new Error(`${(err as Error).message}${dump()}`);
    });
    expect(got.attrs.from).toBe("bob@corp.test/desk");
    const failed = gw.logs.find((l) => l.msg === "s2s connect failed; trying the next target");
    expect(failed).toMatchObject({ domain: "partner-a.test", target: `down.partner-a.test[${DOWN}]:15269` });
  });

  it("carries presence both ways with the certificate partner", async () => {
    await alice.send(xml("presence", { to: "bob@corp.test" }, xml("show", {}, "dnd"), xml("status", {}, "In a meeting")));
    const inbound = await gw.sink.waitFor((e) => e.kind === "presence" && e.from.startsWith("alice@"));
    expect(inbound.presence?.state).toBe("in-a-meeting");
    const r = await gw.route({ kind: "presence", from: "bob@corp.test/desk", to: alice.jid, presence: { state: "on-the-phone" } });
    expect(r.delivered).toBe(true);
    const p = await alice.waitFor((el) => el.name === "presence" && el.attrs.from === "bob@corp.test/desk");
    expect(p.getChildText("show")).toBe("dnd");
    expect(p.getChildText("status")).toBe("On the phone");
  });

  it("takes a message from a dialback partner, verifying the key with its authoritative server", async () => {
    await carol.message("bob@corp.test", "hello from b", "m2");
    const env = await gw.sink.waitFor((e) => e.body === "hello from b").catch((err) => {
      throw new Error(`${(err as Error).message}${dump()}`);
    });
    expect(env.security?.auth).toBe("dialback");
    expect(env.partnerDomain).toBe("partner-b.test");
  });

  it("delivers to the dialback partner, answering its verify request as the authoritative server", async () => {
    const r = await gw.route({ kind: "message", from: "bob@corp.test/desk", to: carol.jid, type: "chat", body: "hello to b" });
    expect(r.delivered).toBe(true);
    await carol.waitFor((el) => el.getChildText("body") === "hello to b").catch((err) => {
      throw new Error(`${(err as Error).message}${dump()}`);
    });
    expect(gw.logs.find((l) => l.msg === "s2s outbound stream ready" && l.remote === "partner-b.test")).toMatchObject({
      via: "dialback",
      target: `_xmpps-server._tcp partner-b.test[${PEER_B}]:15270`,
    });
  });

  it("returns a refused message to its sender as a policy-violation stanza error", async () => {
    gw.sink.refuse = (e) => (e.body === "forbidden words" ? { condition: "policy-violation", type: "modify", text: "blocked by policy" } : undefined);
    await alice.message("bob@corp.test", "forbidden words", "m3");
    const err = await alice.waitFor((el) => el.attrs.type === "error" && el.attrs.id === "m3");
    expect(err.getChild("error")?.getChild("policy-violation")).toBeDefined();
    expect(err.getChild("error")?.getChildText("text")).toBe("blocked by policy");
    gw.sink.refuse = undefined;
  });

  it("refuses a partner whose certificate is from an untrusted CA, both ways", async () => {
    await xavier.message("bob@corp.test", "untrusted hello", "x1");
    const bounced = await xavier.waitFor((el) => el.attrs.type === "error" && el.attrs.id === "x1", 15_000).catch((err) => {
      throw new Error(`${(err as Error).message}\n--- prosody x ---\n${peerX.log().slice(-4000)}`);
    });
    // Prosody bounces with its own s2s failure condition, carrying the reason demarc gave it.
    const error = bounced.getChild("error");
    expect(error?.getChild("remote-server-timeout", "urn:ietf:params:xml:ns:xmpp-stanzas")).toBeDefined();
    expect(error?.getChildText("text", "urn:ietf:params:xml:ns:xmpp-stanzas")).toMatch(/not-authorized \(certificate not acceptable for partner-x\.test: certificate chain not trusted/);
    expect(gw.sink.delivered.some((e) => e.body === "untrusted hello")).toBe(false);
    const refusal = gw.logs.find((l) => l.msg === "s2s certificate-only partner refused" && l.remote === "partner-x.test");
    expect(refusal).toBeDefined();
    expect(String(refusal?.reason)).toMatch(/not trusted/);
    const r = await gw.route({ kind: "message", from: "bob@corp.test", to: "xavier@partner-x.test", body: "to untrusted" });
    expect(r.delivered).toBe(false);
    if (!r.delivered) expect(r.error.text).toMatch(/certificate of partner-x\.test not acceptable: certificate chain not trusted/);
  });

  it("refuses a partner whose certificate from the trusted CA names another partner, both ways", async () => {
    const wrongName = /certificate does not name partner-w\.test \(it names DNS:partner-a\.test\)/;
    await wendy.message("bob@corp.test", "wrong-name hello", "w1");
    const bounced = await wendy.waitFor((el) => el.attrs.type === "error" && el.attrs.id === "w1", 15_000).catch((err) => {
      throw new Error(`${(err as Error).message}\n--- prosody w ---\n${peerW.log().slice(-4000)}`);
    });
    // Prosody words the bounce itself; what must reach it is demarc's stream error, condition and reason.
    expect(bounced.getChild("error")?.getChildText("text")).toMatch(/not-authorized \(certificate not acceptable for partner-w\.test: certificate does not name/);
    expect(gw.sink.delivered.some((e) => e.body === "wrong-name hello")).toBe(false);
    const refusal = gw.logs.find((l) => l.msg === "s2s certificate-only partner refused" && l.remote === "partner-w.test");
    expect(String(refusal?.reason)).toMatch(wrongName);

    // Outbound demarc judges Prosody's server certificate itself, before any authentication in which Prosody would judge demarc's.
    const r = await gw.route({ kind: "message", from: "bob@corp.test", to: "wendy@partner-w.test", body: "to wrong name" });
    expect(r.delivered).toBe(false);
    if (!r.delivered) {
      expect(r.error).toMatchObject({ condition: "remote-server-not-found", type: "cancel" });
      expect(r.error.text).toMatch(new RegExp(`partner-w\\.test\\[${PEER_W.replace(/\./g, "\\.")}\\]:15269 certificate of partner-w\\.test not acceptable: ${wrongName.source}`));
    }
    // Seen from Prosody: TLS completed, then demarc closed its stream with the reason (so not a TLS failure on either side).
    await expect
      .poll(() => peerW.log(), { timeout: 5_000 })
      .toMatch(/Incoming s2s stream corp\.test->partner-w\.test closed: policy-violation \(certificate of partner-w\.test not acceptable/);
    expect(wendy.received.some((el) => el.getChildText("body") === "to wrong name")).toBe(false);
  });
});
