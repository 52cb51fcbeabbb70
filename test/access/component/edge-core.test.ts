/**
 * demarc on both sides of the DMZ: a `demarc start` in mode core (the
 * presence core with c2s users, no federation listeners) accepts the
 * component stream of a `demarc start` in mode edge over TLS with a shared
 * secret; the edge federates with a partner Prosody. Compliance runs at the
 * edge (a block and a redaction), both archives hold the messages, and a
 * second connection for the same partner domain is refused with conflict.
 */
import { copyFileSync, mkdirSync } from "node:fs";
import { connect } from "node:tls";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { baseConfig, runDemarc, type DemarcProcess } from "../../helpers/demarc.js";
import { createTestCa, type TestCa } from "../../helpers/ca.js";
import { startDnsServer, type DnsServerHandle } from "../../helpers/dns-server.js";
import { startProsody, type ProsodyHandle } from "../../helpers/prosody.js";
import { loginPartnerUser, type PartnerUser } from "../../helpers/xmpp-client.js";
import { login, xml, C2S_PORT, type User } from "../c2s/helpers.js";
import { operatorDir, type Operator } from "../../e2e/operator.js";
import { ADMIN_PORT, COMPONENT_PORT as LINK_PORT, S2S_PORT, archivedRows, edgeOperator, startEdge } from "../../edge/component/harness.js";
import { componentHeader, handshakeDigest, type Element } from "../../../src/xmpp/index.js";

const EDGE = "127.0.15.201";
const CORE = "127.0.15.202";
const PEER = "127.0.15.211";
const DNS_ADDR = "127.0.15.253";
const SECRET = "edge-core-secret";
const STANZAS = "urn:ietf:params:xml:ns:xmpp-stanzas";

let dns: DnsServerHandle;
let ca: TestCa;
let partner: ProsodyHandle;
let edgeOp: Operator;
let coreOp: Operator;
let edge: DemarcProcess;
let core: DemarcProcess;
let alice: User; // c2s on demarc's core
let bob: PartnerUser;

async function installCert(op: Operator): Promise<void> {
  const leaf = ca.issue({ name: "corp", domains: ["corp.test"], xmppAddrs: ["corp.test"] });
  await op.demarc(["certs", "install", leaf.certPath, leaf.keyPath]);
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
  const common = { data_dir: "data", tls: { trust: { system: false, ca_files: ["ca/ca.crt"] } }, partners: [{ domain: "partner-a.test", auth: ["certificate"] }] };
  const caDir = join(process.env.TMPDIR ?? "/tmp", `demarc-edge-core-ca-${process.pid}`);
  mkdirSync(caDir, { recursive: true });
  ca = createTestCa(caDir);
  edgeOp = await edgeOperator({ address: EDGE, ca, dns: dns.server, internal: { host: CORE, port: LINK_PORT, tls: true, tls_name: "corp.test" } });
  // Compliance runs at the edge; the core's policy folder would hold internal-only rules.
  coreOp = operatorDir(
    baseConfig(CORE, {
      ...common,
      mode: "core",
      admin: { host: CORE, port: ADMIN_PORT },
      c2s: { starttls: { host: CORE, port: C2S_PORT }, direct_tls: { host: CORE, port: C2S_PORT + 1 } },
      policy: { dir: "core-policies", watch: false },
      core_link: { listen: { host: CORE, port: LINK_PORT }, secret: "${DEMARC_COMPONENT_SECRET}" },
    }),
    {},
  );
  mkdirSync(join(coreOp.dir, "core-policies"));
  mkdirSync(join(coreOp.dir, "ca"), { recursive: true });
  copyFileSync(ca.certPath, join(coreOp.dir, "ca", "ca.crt"));
  await installCert(coreOp);
  await coreOp.demarc(["users", "add", "alice@corp.test", "--password", "pw-alice-long-1"]);
  partner = await startProsody({ domain: "partner-a.test", address: PEER, ca, dnsServer: dns.server, secureAuth: true, users: { bob: "pw" } });
  core = runDemarc(["--config", coreOp.configPath, "start"], { cwd: coreOp.dir });
  await core.waitForLog((l) => l.msg === "demarc started", 20_000);
  edge = startEdge(edgeOp);
  await edge.waitForLog((l) => l.msg === "component stream online", 20_000);
  alice = await login({ address: CORE, caPem: ca.certPem }, "alice", { password: "pw-alice-long-1", resource: "desk" });
  await alice.send(xml("presence"));
  bob = await loginPartnerUser({ address: PEER, domain: "partner-a.test", username: "bob", password: "pw", caPem: ca.certPem });
  await bob.presence();
}, 90_000);

afterAll(async () => {
  await Promise.all([alice?.stop(), bob?.stop()]);
  await edge?.stop();
  await core?.stop();
  await partner?.stop();
  await dns?.close();
});

const dump = () =>
  `\n--- edge ---\n${edge.logs.slice(-15).map((l) => JSON.stringify(l)).join("\n")}\n${edge.stderr}\n--- core ---\n${core.logs.slice(-15).map((l) => JSON.stringify(l)).join("\n")}\n${core.stderr}\n--- partner ---\n${partner.log().slice(-2000)}`;
const orDump = <T>(p: Promise<T>) => p.catch((err: Error) => Promise.reject(new Error(`${err.message}${dump()}`)));
const body = (el: Element) => el.getChildText("body") ?? "";

const search = archivedRows;

describe("demarc mode edge in front of demarc mode core", () => {
  it("carries a core user's message out through the edge, with the partner disclaimer added once", async () => {
    await alice.send(xml("message", { to: "bob@partner-a.test", type: "chat", id: "out-1" }, xml("body", {}, "hello bob, from the core")));
    const got = await orDump(bob.waitFor((el) => el.name === "message" && body(el).startsWith("hello bob, from the core")));
    expect(got.attrs.from).toBe("alice@corp.test/desk");
    expect(body(got).split("This message is confidential").length).toBe(2);
  });

  it("carries a partner's message in through the edge to the core user, a card number redacted at the edge", async () => {
    await bob.message("alice@corp.test", "my card is 4111 1111 1111 1111 thanks", "in-card");
    const got = await orDump(alice.waitFor((el) => el.name === "message" && body(el).startsWith("my card is"), 10_000));
    expect(body(got)).toBe("my card is [card number removed] thanks");
    expect(got.attrs.from).toMatch(/^bob@partner-a\.test\//);
  });

  it("blocks a core user's message with a DLP code name at the edge: policy-violation back to the user", async () => {
    await alice.send(xml("message", { to: "bob@partner-a.test", type: "chat", id: "out-dlp" }, xml("body", {}, "status of Project Falcon?")));
    const err = await orDump(alice.waitFor((el) => el.name === "message" && el.attrs.type === "error" && el.attrs.id === "out-dlp", 10_000));
    expect(err.getChild("error")?.getChild("policy-violation", STANZAS)).toBeTruthy();
    expect(bob.received.filter((el) => body(el).includes("Falcon"))).toEqual([]);
  });

  it("refuses a second connection for a domain an edge holds (conflict), and a wrong secret (not-authorized)", async () => {
    const attempt = (secret: string) =>
      new Promise<string>((resolve, reject) => {
        const s = connect({ host: CORE, port: LINK_PORT, servername: "corp.test", ca: ca.certPem }, () => s.write(componentHeader({ to: "partner-a.test" })));
        let buf = "";
        s.setEncoding("utf8");
        s.on("data", (c: string) => {
          buf += c;
          const id = /id='([^']+)'/.exec(buf)?.[1];
          if (id && !buf.includes("<handshake>")) {
            s.write(`<handshake>${handshakeDigest(id, secret)}</handshake>`);
            buf += "<handshake>";
          }
        });
        s.on("close", () => resolve(buf));
        s.on("error", reject);
        setTimeout(() => s.destroy(), 5_000).unref();
      });
    expect(await attempt(SECRET)).toMatch(/<conflict xmlns='urn:ietf:params:xml:ns:xmpp-streams'\/>/);
    expect(await attempt("wrong")).toMatch(/<not-authorized xmlns='urn:ietf:params:xml:ns:xmpp-streams'\/>/);
    const links = (await (await fetch(`http://${CORE}:${ADMIN_PORT}/api/core/links`)).json()) as { domain: string; online: boolean }[];
    expect(links).toEqual([{ domain: "partner-a.test", remote: expect.any(String), online: true }]);
  });

  it("archives on both sides: the edge with its verdicts, the core with the edge's decision", async () => {
    expect(await edge.stop(15_000)).toEqual({ code: 0, signal: null });
    expect(await core.stop(15_000)).toEqual({ code: 0, signal: null });
    const atEdge = await search(edgeOp, ["--kind", "message"]);
    const edgeBy = (s: string) => atEdge.find((r) => String(r.body ?? "").startsWith(s));
    expect(edgeBy("hello bob, from the core")).toMatchObject({ direction: "outbound", verdict: "allow" });
    expect(edgeBy("my card is")).toMatchObject({ direction: "inbound", ruleId: "redact-payment-cards" });
    expect(edgeBy("status of Project Falcon")).toMatchObject({ direction: "outbound", verdict: "block", ruleId: "dlp-project-codenames" });
    const atCore = await search(coreOp, ["--kind", "message"]);
    const coreBy = (s: string) => atCore.find((r) => String(r.body ?? "").startsWith(s));
    // The core only ever saw the redacted text, and records the edge's decision.
    expect(coreBy("my card is")).toMatchObject({ direction: "inbound", verdict: "allow", body: "my card is [card number removed] thanks" });
    expect(coreBy("hello bob, from the core")).toMatchObject({ direction: "outbound" });
  });
});
