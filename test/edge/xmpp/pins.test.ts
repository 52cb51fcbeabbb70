/**
 * Per-partner certificate pins (partners[].pinned) between in-process demarc
 * gateways: a pin lets a partner whose certificate comes from a CA we do not
 * trust authenticate with SASL EXTERNAL in both directions; a pin for another
 * fingerprint refuses that same certificate; and because pins replace CA
 * trust for their partner, a certificate from our own CA that misses the pin
 * is refused too, while pinning one partner trusts nobody else.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { X509Certificate } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createTestCa } from "../../helpers/ca.js";
import { startDnsServer, type DnsServerHandle } from "../../helpers/dns-server.js";
import { startTestGateway, type TestGateway } from "../../helpers/xmpp-gateway.js";
import { until } from "../../helpers/wait.js";
import { chainsTo } from "../../../src/tls/trust.js";

// 127.0.26.0/24 is used by no other test.
const A = "127.0.26.1"; // corp.test: pins pinned.test correctly, capinned.test wrongly
const STRICT = "127.0.26.2"; // strict.test: pins pinned.test wrongly, capinned.test not at all
const B = "127.0.26.3"; // the partner: pinned.test, unpinned.test, capinned.test
const PORT = 15269;
const srv = (target: string) => [{ priority: 10, weight: 1, port: PORT, target }];

let dns: DnsServerHandle;
let a: TestGateway;
let strict: TestGateway;
let b: TestGateway;
let ourCaPem: string;
let partnerPem: string;
/** What the partner presents for pinned.test and unpinned.test (from a CA we do not trust). */
let partnerFp: string;
/** Another certificate for pinned.test from the same CA, e.g. one the partner has since replaced. */
let rotatedFp: string;
/** What the partner presents for capinned.test (from our own CA, naming it). */
let capinnedFp: string;
let capinnedOldFp: string;
let corpFp: string;

const fp = (pem: string) => new X509Certificate(pem).fingerprint256;

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), "s2s-pins-"));
  const ca = createTestCa(join(dir, "ca"));
  const otherCa = createTestCa(join(dir, "other-ca"));
  ourCaPem = ca.certPem;
  const corp = ca.issue({ name: "corp", domains: ["corp.test"] });
  const strictCert = ca.issue({ name: "strict", domains: ["strict.test"] });
  const partner = otherCa.issue({ name: "partner", domains: ["pinned.test", "unpinned.test"] });
  const rotated = otherCa.issue({ name: "rotated", domains: ["pinned.test"] });
  const capinned = ca.issue({ name: "capinned", domains: ["capinned.test"] });
  const capinnedOld = ca.issue({ name: "capinned-old", domains: ["capinned.test"] });
  partnerPem = partner.cert;
  partnerFp = fp(partner.cert);
  rotatedFp = fp(rotated.cert);
  capinnedFp = fp(capinned.cert);
  capinnedOldFp = fp(capinnedOld.cert);
  corpFp = fp(corp.cert);

  dns = await startDnsServer("127.0.26.53", {
    a: { "a.host.test": [A], "strict.host.test": [STRICT], "b.host.test": [B] },
    srv: {
      "_xmpp-server._tcp.corp.test": srv("a.host.test"),
      "_xmpp-server._tcp.strict.test": srv("strict.host.test"),
      "_xmpp-server._tcp.pinned.test": srv("b.host.test"),
      "_xmpp-server._tcp.unpinned.test": srv("b.host.test"),
      "_xmpp-server._tcp.capinned.test": srv("b.host.test"),
    },
  });
  const ourTrust = { system: false, ca_files: [ca.certPath] };
  const common = (host: string) => ({
    dns: { servers: [dns.server], timeout_ms: 500 },
    s2s: { starttls: { host, port: PORT }, direct_tls: { enabled: false }, connect_timeout_ms: 3_000 },
  });
  [a, strict, b] = await Promise.all([
    startTestGateway({
      domains: ["corp.test"],
      tls: { certificates: [{ cert: corp.certPath, key: corp.keyPath }], trust: ourTrust },
      ...common(A),
      partners: [
        // fingerprint256 as Node prints it (colon-separated upper-case hex), which the config takes as is.
        { domain: "pinned.test", auth: ["certificate"], pinned: [partnerFp] },
        { domain: "unpinned.test", auth: ["certificate"] },
        { domain: "capinned.test", auth: ["certificate"], pinned: [capinnedOldFp] },
      ],
    }),
    startTestGateway({
      domains: ["strict.test"],
      tls: { certificates: [{ cert: strictCert.certPath, key: strictCert.keyPath }], trust: ourTrust },
      ...common(STRICT),
      partners: [
        { domain: "pinned.test", auth: ["certificate"], pinned: [rotatedFp] },
        { domain: "capinned.test", auth: ["certificate"] },
      ],
    }),
    startTestGateway({
      domains: ["pinned.test", "unpinned.test", "capinned.test"],
      tls: {
        certificates: [
          { cert: partner.certPath, key: partner.keyPath },
          { cert: capinned.certPath, key: capinned.keyPath },
        ],
        // The partner trusts our CA, so every refusal below is ours, not its.
        trust: ourTrust,
      },
      ...common(B),
      partners: [
        { domain: "corp.test", auth: ["certificate"] },
        { domain: "strict.test", auth: ["certificate"] },
      ],
    }),
  ]);
});

afterAll(async () => {
  await Promise.all([a?.close(), strict?.close(), b?.close()]);
  await dns?.close();
});

const logged = (gw: TestGateway, msg: string) => gw.logs.filter((l) => l.msg === msg);
const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/**
 * The partner sends to `us` (our inbound side judges its certificate) and
 * `us` sends to the partner (our outbound side judges it); both must fail
 * with `reason`, and nothing may arrive on either side.
 */
async function refusedBothWays(us: TestGateway, ourDomain: string, partnerDomain: string, reason: string): Promise<void> {
  const inbound = await b.route({ kind: "message", from: `carol@${partnerDomain}`, to: `dave@${ourDomain}`, body: `in from ${partnerDomain}` });
  expect(inbound.delivered).toBe(false);
  if (!inbound.delivered) {
    // The partner's bounce quotes our stream error, capped in length (outbound-failover.ts); our log has it whole.
    const full = `${ourDomain} refused the stream: not-authorized (certificate not acceptable for ${partnerDomain}: ${reason})`;
    const text = inbound.error.text ?? "";
    const quoted = text.slice(text.indexOf(`${ourDomain} refused the stream`)).replace(/…$/, "");
    expect(quoted.length).toBeGreaterThan(100);
    expect(full.startsWith(quoted)).toBe(true);
  }
  expect(logged(us, "s2s certificate-only partner refused").filter((l) => l.remote === partnerDomain)).toEqual([expect.objectContaining({ reason })]);

  const authenticatedAtPartner = () => logged(b, "s2s inbound stream authenticated").filter((l) => l.remote === ourDomain).length;
  const before = authenticatedAtPartner();
  const streamsBefore = await b.inboundStreams();
  const outbound = await us.route({ kind: "message", from: `dave@${ourDomain}`, to: `carol@${partnerDomain}`, body: `out to ${partnerDomain}` });
  expect(outbound).toMatchObject({ delivered: false, error: { condition: "remote-server-not-found" } });
  if (!outbound.delivered) expect(outbound.error.text).toMatch(new RegExp(`certificate of ${esc(partnerDomain)} not acceptable: ${esc(reason)}$`));

  // Once the partner has closed the stream we dropped, it has handled everything we sent on it.
  await until(async () => (await b.inboundStreams()) <= streamsBefore, 5_000, "the partner to close the refused stream");
  // Having refused the partner's certificate, we did not go on to authenticate ourselves to it.
  expect(authenticatedAtPartner()).toBe(before);
  expect(us.sink.delivered.filter((e) => e.from.endsWith(`@${partnerDomain}`))).toEqual([]);
  expect(b.sink.delivered.filter((e) => e.to.endsWith(`@${partnerDomain}`) && e.from.endsWith(`@${ourDomain}`))).toEqual([]);
}

describe("s2s certificate pins", () => {
  it("the partner's certificate really is outside our trust", () => {
    // Without this, a pass below could come from CA trust rather than the pin.
    expect(chainsTo([partnerPem], [ourCaPem])).toBe(false);
    expect(partnerFp).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    expect(new Set([partnerFp, rotatedFp, capinnedFp, capinnedOldFp]).size).toBe(4);
  });

  it("inbound: a pinned partner from an untrusted CA authenticates with SASL EXTERNAL and its message is delivered", async () => {
    const r = await b.route({ kind: "message", from: "carol@pinned.test/desk", to: "bob@corp.test", type: "chat", body: "pinned in" });
    expect(r.delivered).toBe(true);
    const env = await a.sink.waitFor((e) => e.body === "pinned in");
    expect(env).toMatchObject({ from: "carol@pinned.test/desk", to: "bob@corp.test", partnerDomain: "pinned.test" });
    expect(env.security).toMatchObject({ auth: "certificate", certFingerprint: partnerFp });
    expect(logged(a, "s2s inbound stream authenticated").filter((l) => l.remote === "pinned.test")).toEqual([expect.objectContaining({ via: "certificate" })]);
    // "certificate" on the partner's outbound stream means our SASL <success/>, not dialback.
    expect(logged(b, "s2s outbound stream ready").find((l) => l.local === "pinned.test" && l.remote === "corp.test")).toMatchObject({ via: "certificate" });
  });

  it("outbound: our stream to the pinned partner accepts its certificate and authenticates to it", async () => {
    const r = await a.route({ kind: "message", from: "bob@corp.test/desk", to: "carol@pinned.test", type: "chat", body: "pinned out" });
    expect(r.delivered).toBe(true);
    const env = await b.sink.waitFor((e) => e.body === "pinned out");
    expect(env.security).toMatchObject({ auth: "certificate", certFingerprint: corpFp });
    expect(logged(a, "s2s outbound stream ready").find((l) => l.remote === "pinned.test")).toMatchObject({ via: "certificate", target: `_xmpp-server._tcp b.host.test[${B}]:${PORT}` });
    expect(logged(a, "s2s connect failed; trying the next target").filter((l) => l.domain === "pinned.test")).toEqual([]);
  });

  it("a pin for another fingerprint refuses the same partner certificate both ways", async () => {
    await refusedBothWays(strict, "strict.test", "pinned.test", `certificate ${partnerFp} is not one pinned for pinned.test`);
  });

  it("a certificate from our trusted CA that names the partner is refused when it misses the partner's pin", async () => {
    await refusedBothWays(a, "corp.test", "capinned.test", `certificate ${capinnedFp} is not one pinned for capinned.test`);
  });

  it("the same CA-issued certificate is accepted both ways by a gateway without a pin for that partner", async () => {
    // The control for the previous case: the certificate qualifies on CA trust, so only the pin refused it.
    const inbound = await b.route({ kind: "message", from: "erin@capinned.test", to: "dave@strict.test", body: "ca in" });
    expect(inbound.delivered).toBe(true);
    const env = await strict.sink.waitFor((e) => e.body === "ca in");
    expect(env.security).toMatchObject({ auth: "certificate", certFingerprint: capinnedFp });
    const outbound = await strict.route({ kind: "message", from: "dave@strict.test", to: "erin@capinned.test", body: "ca out" });
    expect(outbound.delivered).toBe(true);
    await b.sink.waitFor((e) => e.body === "ca out");
    expect(logged(strict, "s2s outbound stream ready").find((l) => l.remote === "capinned.test")).toMatchObject({ via: "certificate" });
  });

  it("a pin trusts its certificate for that partner only: the same certificate for another partner needs CA trust", async () => {
    await refusedBothWays(a, "corp.test", "unpinned.test", "certificate chain not trusted (UNABLE_TO_VERIFY_LEAF_SIGNATURE)");
  });
});
