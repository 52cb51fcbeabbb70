/**
 * SIGHUP applies the federation everywhere at once: a running gateway is
 * reloaded with a new SIP partner and a new hosted domain, and the effect is
 * checked from outside, over real sockets. Before the reload, a message to the
 * partner goes out as XMPP (and bounces: the partner has no XMPP service) and
 * the new domain is refused on s2s as host-unknown; after it, the message
 * reaches the partner's SIP user agent and the domain's stream is accepted.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { loadConfig } from "../../src/config/load.js";
import { Gateway } from "../../src/gateway/gateway.js";
import { compose, type Composition } from "../../src/gateway/modules.js";
import { makeCredentials } from "../../src/access/c2s/credentials.js";
import { createTestCa } from "../helpers/ca.js";
import { startDnsServer, type DnsServerHandle } from "../helpers/dns-server.js";
import { RawPeer, header } from "../helpers/xmpp-raw.js";
import { login, xml, type User } from "../access/c2s/helpers.js";
import { PartnerUa, utf8 } from "../edge/sip/partner-ua.js";

const ADDR = "127.0.17.40";
const UA_ADDR = "127.0.17.30";
const DNS_ADDR = "127.0.17.53";

let dir: string;
let path: string;
let gateway: Gateway;
let wired: Composition;
let dns: DnsServerHandle;
let carol: PartnerUa;
let bob: User;
const logs: Record<string, unknown>[] = [];

function writeConfig(extra: { domains: string[]; partners: object[]; adminPort: number }, ca: { certPath: string }, leaf: { certPath: string; keyPath: string }): void {
  // JSON is YAML: the file the gateway reads is exactly this object.
  const cfg = {
    domains: extra.domains,
    data_dir: join(dir, "data"),
    log: { level: "info", format: "json" },
    admin: { enabled: false, host: ADDR, port: extra.adminPort },
    archive: { url: "sqlite:reload.db", journal: { commit_delay_ms: 1 } },
    tls: { dir: join(dir, "certs"), certificates: [{ cert: leaf.certPath, key: leaf.keyPath }], trust: { system: false, ca_files: [ca.certPath] } },
    dns: { servers: [dns.server], timeout_ms: 500 },
    partners: extra.partners,
    sip: { tcp: { enabled: true, host: ADDR, port: 0 }, tls: { enabled: false }, udp: { enabled: false }, trust_plain_transports: true, timers: { t1_ms: 100, t2_ms: 400 } },
    c2s: { starttls: { host: ADDR, port: 0 }, direct_tls: { enabled: false } },
    s2s: { starttls: { host: ADDR, port: 0 }, direct_tls: { enabled: false }, connect_timeout_ms: 1_000 },
  };
  writeFileSync(path, JSON.stringify(cfg, null, 2));
}

let rewrite: (extra: { domains: string[]; partners: object[]; adminPort: number }) => void;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "demarc-reload-"));
  path = join(dir, "demarc.yaml");
  const ca = createTestCa(join(dir, "ca"));
  const leaf = ca.issue({ name: "corp", domains: ["corp.test", "newcorp.test"], xmppAddrs: ["corp.test", "newcorp.test"] });
  carol = new PartnerUa(UA_ADDR, "carol", "sipnew.test");
  await carol.start();
  dns = await startDnsServer(DNS_ADDR, {
    srv: { "_sip._tcp.sipnew.test": [{ priority: 0, weight: 0, port: carol.port, target: "sip.sipnew.test" }] },
    a: { "sip.sipnew.test": [UA_ADDR] },
  });
  rewrite = (extra) => writeConfig(extra, ca, leaf);
  rewrite({ domains: ["corp.test"], partners: [], adminPort: 0 });
  const log = pino({ level: "info" }, { write: (line: string) => void logs.push(JSON.parse(line) as Record<string, unknown>) });
  wired = compose();
  gateway = new Gateway(loadConfig({ path, env: {} }), log, wired.modules);
  await gateway.start();
  await wired.core!.core!.store.putUser({ jid: "bob@corp.test", credentials: makeCredentials("pw-bob") });
  bob = await login({ address: ADDR, caPem: ca.certPem }, "bob", { password: "pw-bob", resource: "desk", port: wired.c2s!.addresses.starttls!.port });
}, 30_000);

afterAll(async () => {
  await bob?.xmpp.stop().catch(() => undefined);
  await gateway?.close();
  await carol?.close();
  await dns?.close();
});

/** Opens an s2s stream from a partner to `to` and answers what the gateway sent back first. */
async function openS2s(to: string): Promise<string> {
  const peer = await RawPeer.connect(ADDR, wired.s2s!.addresses().starttls!.port);
  try {
    await peer.write(header("partner.example", to));
    return await peer.expect(/<stream:features|<stream:error/);
  } finally {
    peer.destroy();
  }
}

describe("SIGHUP reload of the federation", () => {
  it("before: the partner is reached over XMPP and the new domain is unknown", async () => {
    expect(await openS2s("newcorp.test")).toMatch(/host-unknown/);
    await bob.send(xml("message", { to: "carol@sipnew.test", id: "before", type: "chat" }, xml("body", {}, "before the reload")));
    const bounce = await bob.waitFor((el) => el.name === "message" && el.attrs.id === "before" && el.attrs.type === "error", 10_000);
    expect(bounce.attrs.from).toBe("carol@sipnew.test");
    expect(carol.requests.filter((m) => m.method === "MESSAGE")).toEqual([]);
  });

  it("after: the new SIP partner is routed as SIP, the new domain is accepted on s2s, and what needs a restart is named", async () => {
    rewrite({ domains: ["corp.test", "newcorp.test"], partners: [{ domain: "sipnew.test", protocol: "sip", profile: "aol" }], adminPort: 19_999 });
    await gateway.reload({ path, env: {} });

    await bob.send(xml("message", { to: "carol@sipnew.test", id: "after", type: "chat" }, xml("body", {}, "after the reload")));
    const got = await carol.waitFor("requests", (m) => m.method === "MESSAGE");
    expect(utf8(got.content)).toBe("after the reload");
    expect(String(got.headers.from?.uri)).toContain("bob@corp.test");

    expect(await openS2s("newcorp.test")).toMatch(/<stream:features/);

    const reloaded = logs.find((l) => typeof l.msg === "string" && l.msg.startsWith("configuration reloaded"));
    expect(reloaded?.restartNeeded).toEqual(["admin"]);
    expect(reloaded?.msg).toContain("a restart is needed to apply admin");
  });
});
