/** Interop with a real ejabberd 23.01 as a second, independent partner implementation. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createTestCa } from "../../helpers/ca.js";
import { startDnsServer, type DnsServerHandle } from "../../helpers/dns-server.js";
import { startEjabberd, type EjabberdHandle } from "../../helpers/ejabberd.js";
import { loginPartnerUser, type PartnerUser } from "../../helpers/xmpp-client.js";
import { startTestGateway, type TestGateway } from "../../helpers/xmpp-gateway.js";
import { xml } from "../../../src/xmpp/xml.js";

const DEMARC = "127.0.3.40";
const DNS_ADDR = "127.0.3.41";
const PEER = "127.0.3.42";

let dns: DnsServerHandle;
let gw: TestGateway;
let peer: EjabberdHandle;
let erin: PartnerUser;
let fred: PartnerUser;

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), "s2s-ejabberd-"));
  const ca = createTestCa(join(dir, "ca"));
  const own = ca.issue({ name: "corp", domains: ["corp.test"] });
  dns = await startDnsServer(DNS_ADDR, {
    a: { "corp.test": [DEMARC], "partner-e.test": [PEER], "partner-f.test": [PEER] },
    srv: {
      "_xmpp-server._tcp.corp.test": [{ priority: 10, weight: 1, port: 15269, target: "corp.test" }],
      // ejabberd reaches demarc with direct TLS (XEP-0368); Prosody's test covers STARTTLS. It merges both
      // services' records by priority (XEP-0368 section 3), so direct TLS must rank first, not tie at random.
      "_xmpps-server._tcp.corp.test": [{ priority: 5, weight: 1, port: 15270, target: "corp.test" }],
      "_xmpp-server._tcp.partner-e.test": [{ priority: 10, weight: 1, port: 15269, target: "partner-e.test" }],
      "_xmpp-server._tcp.partner-f.test": [{ priority: 10, weight: 1, port: 15269, target: "partner-f.test" }],
    },
  });
  peer = await startEjabberd({
    domain: "partner-e.test",
    extraDomains: ["partner-f.test"],
    address: PEER,
    ca,
    dnsServer: dns.server,
    users: { erin: "pw", "fred@partner-f.test": "pw" },
    distPort: 15290,
    hosts: { "corp.test": DEMARC },
  });
  gw = await startTestGateway({
    domains: ["corp.test"],
    tls: { certificates: [{ cert: own.certPath, key: own.keyPath }], trust: { system: false, ca_files: [ca.certPath] } },
    dns: { servers: [dns.server], timeout_ms: 1000 },
    s2s: { starttls: { host: DEMARC, port: 15269 }, direct_tls: { host: DEMARC, port: 15270 } },
    partners: [
      { domain: "partner-e.test", auth: ["certificate"] },
      // The same ejabberd, but this domain may only use dialback: every dialback role against ejabberd.
      { domain: "partner-f.test", auth: ["dialback"] },
    ],
  });
  [erin, fred] = await Promise.all([
    loginPartnerUser({ address: PEER, port: 15222, domain: "partner-e.test", username: "erin", password: "pw", caPem: ca.certPem }),
    loginPartnerUser({ address: PEER, port: 15222, domain: "partner-f.test", username: "fred", password: "pw", caPem: ca.certPem }),
  ]);
}, 60_000);

afterAll(async () => {
  await Promise.all([erin?.stop(), fred?.stop()]);
  await gw?.close();
  await peer?.stop();
  await dns?.close();
});

const dump = () => `\ndns: ${dns.queries.join(", ")}\n--- ejabberd ---\n${peer.log().slice(-5000)}`;

describe("s2s with ejabberd", () => {
  it("takes a message from ejabberd", async () => {
    await erin.message("bob@corp.test", "hello from e", "e1");
    const env = await gw.sink.waitFor((e) => e.body === "hello from e").catch((err) => {
      throw new Error(`${(err as Error).message}${dump()}`);
    });
    expect(env).toMatchObject({ direction: "inbound", kind: "message", to: "bob@corp.test", partnerDomain: "partner-e.test" });
    expect(env.security?.auth).toBe("certificate");
    expect(gw.logs.find((l) => l.msg === "s2s inbound stream authenticated" && l.remote === "partner-e.test")).toMatchObject({ directTls: true });
  });

  it("delivers a message and presence to ejabberd", async () => {
    const r = await gw.route({ kind: "message", from: "bob@corp.test/desk", to: erin.jid, type: "chat", body: "hello to e" });
    expect(r.delivered).toBe(true);
    await erin.waitFor((el) => el.getChildText("body") === "hello to e").catch((err) => {
      throw new Error(`${(err as Error).message}${dump()}`);
    });
    await gw.route({ kind: "presence", from: "bob@corp.test/desk", to: erin.jid, presence: { state: "away", note: "lunch" } });
    const p = await erin.waitFor((el) => el.name === "presence" && el.attrs.from === "bob@corp.test/desk");
    expect(p.getChildText("show")).toBe("away");
  });

  it("answers ejabberd's presence with the mapped rich state", async () => {
    await erin.send(xml("presence", { to: "bob@corp.test" }, xml("show", {}, "xa"), xml("status", {}, "Gone fishing")));
    const env = await gw.sink.waitFor((e) => e.kind === "presence" && e.from.startsWith("erin@") && e.presence?.note === "Gone fishing");
    // A partner's xa with free text is plain away (src/mapping/xmpp-presence.ts): only our own labels carry richer states.
    expect(env.presence).toMatchObject({ state: "away", note: "Gone fishing" });
    expect(env).toMatchObject({ direction: "inbound", partnerDomain: "partner-e.test" });
  });

  it("federates with dialback both ways for a dialback-only domain", async () => {
    await fred.message("bob@corp.test", "hello from f", "f1");
    const env = await gw.sink.waitFor((e) => e.body === "hello from f").catch((err) => {
      throw new Error(`${(err as Error).message}${dump()}`);
    });
    expect(env.security?.auth).toBe("dialback");
    const r = await gw.route({ kind: "message", from: "bob@corp.test/desk", to: fred.jid, type: "chat", body: "hello to f" });
    expect(r.delivered).toBe(true);
    await fred.waitFor((el) => el.getChildText("body") === "hello to f");
    expect(gw.logs.find((l) => l.msg === "s2s outbound stream ready" && l.remote === "partner-f.test")).toMatchObject({ via: "dialback" });
  });
});
