/**
 * PUBLISH of a partner user's presence (RFC 3903) into demarc with the real
 * presence core behind the router: bob@corp.test has alice@partner.test on
 * his roster (subscription "to") and is online with one device; what alice's
 * partner publishes reaches that device as presence, through compliance and
 * delivery. SIPp publishes over TCP and, through the TLS relay holding the
 * partner's certificate, over mutual TLS; the error paths use a raw peer.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { startEdge, type EdgeHarness } from "./harness.js";
import { until } from "../../helpers/wait.js";
import { RawSip, rawRequest } from "./raw-client.js";
import { runSipp, tlsBridge, type Bridge } from "../../helpers/sipp.js";
import { PresenceCore } from "../../../src/core/core.js";
import type { CoreSession } from "../../../src/core/session.js";
import type { CoreEvent } from "../../../src/core/types.js";

const ADDR = "127.0.8.60";
const SIPP_TCP = "127.0.8.61";
const SIPP_TLS = "127.0.8.62";
const RAW = "127.0.8.63";

const pidf = (availability: number, note: string, entity = "sip:alice@partner.test") => `<?xml version="1.0" encoding="UTF-8"?>
<presence xmlns="urn:ietf:params:xml:ns:pidf" xmlns:dm="urn:ietf:params:xml:ns:pidf:data-model" xmlns:ms="http://schemas.microsoft.com/2006/09/sip/state" entity="${entity}">
<tuple id="t1"><status><basic>open</basic></status></tuple>
<dm:person id="p1"><ms:state type="aggregateState"><ms:availability>${availability}</ms:availability></ms:state><dm:note>${note}</dm:note></dm:person>
</presence>`;

let h: EdgeHarness;
let core: PresenceCore;
let bob: CoreSession;
let bridge: Bridge;
const events: CoreEvent[] = [];

type PresenceEvent = Extract<CoreEvent, { kind: "presence" }>;
const fromAlice = (): PresenceEvent[] => events.filter((e): e is PresenceEvent => e.kind === "presence" && e.from === "alice@partner.test");

beforeAll(async () => {
  h = await startEdge({
    address: ADDR,
    partners: [{ domain: "partner.test", protocol: "sip", profile: "lync" }],
    sip: { publications: { min_expires_s: 2, max_expires_s: 3_600 } },
    internal(ctx) {
      core = new PresenceCore({ domains: ["corp.test"], route: (e) => ctx.router.route(e) });
      ctx.router.useInternal(core);
    },
    watchers: () => core,
  });
  await core.store.putUser({ jid: "bob@corp.test", credentials: {} });
  await core.store.putItem("bob@corp.test", { jid: "alice@partner.test", groups: [], subscription: "to", ask: false, pendingIn: false, approved: false, hidden: false });
  bob = await core.connect("bob@corp.test", "desk", { push: (e) => events.push(e) });
  await bob.presence({ state: "available" }, 0);
  const p = h.ca.issue({ name: "partner", domains: ["partner.test"] });
  bridge = await tlsBridge({
    mode: "to-tls",
    host: SIPP_TLS,
    target: { host: ADDR, port: h.edge.ports.TLS! },
    cert: readFileSync(p.certPath, "utf8"),
    key: readFileSync(p.keyPath, "utf8"),
    ca: h.ca.certPem,
    servername: "corp.test",
  });
});

afterAll(async () => {
  await bridge?.close();
  await h?.close();
});

async function publishWithSipp(remote: string, localIp: string): Promise<void> {
  events.length = 0;
  const r = await runSipp({ scenario: "publish-uac.xml", remote, transport: "t1", localIp, timeoutS: 10 });
  expect(r.code, r.report).toBe(0);
  // create (3500 -> available), refresh (nothing new), modify (6500 -> busy), remove (unavailable).
  const seen = await until(() => (fromAlice().length >= 3 ? fromAlice() : undefined), 3_000, "presence at bob's device");
  expect(seen.map((e) => (e.type === "unavailable" ? "unavailable" : `${e.presence?.state}/${e.presence?.note}`))).toEqual([
    "available/at my desk",
    "busy/in a call",
    "unavailable",
  ]);
}

describe("PUBLISH from SIPp reaches a watching user at the core", () => {
  it("over TCP: create, refresh, modify, remove, then 412 for the spent tag", async () => {
    await publishWithSipp(`${ADDR}:${h.edge.ports.TCP}`, SIPP_TCP);
  });

  it("over mutual TLS through the partner's relay", async () => {
    await publishWithSipp(`${SIPP_TLS}:${bridge.port}`, SIPP_TLS);
  });
});

describe("PUBLISH refusals (RFC 3903 section 6)", () => {
  let c: RawSip;
  beforeAll(async () => {
    c = await RawSip.tcp(ADDR, h.edge.ports.TCP!, RAW);
  });
  afterAll(() => c?.close());

  const publish = (o: { uri?: string; from?: string; body?: string; type?: string; extra?: string[] }) =>
    rawRequest({
      method: "PUBLISH",
      uri: o.uri ?? "sip:alice@partner.test",
      from: o.from ?? "sip:alice@partner.test",
      body: o.body,
      contentType: o.body ? (o.type ?? "application/pidf+xml") : undefined,
      extra: o.extra ?? ["Event: presence", "Expires: 600"],
    });
  const ask = async (raw: string) => {
    c.write(raw);
    return c.next((m) => m.headers.cseq?.method === "PUBLISH");
  };

  it("unknown event package: 489 with Allow-Events", async () => {
    const rs = await ask(publish({ body: pidf(3500, "x"), extra: ["Event: dialog", "Expires: 600"] }));
    expect(rs.status).toBe(489);
    expect(String(rs.headers["allow-events"])).toBe("presence");
  });

  it("a body that is not PIDF: 415 with Accept", async () => {
    const rs = await ask(publish({ body: "hello", type: "text/plain" }));
    expect(rs.status).toBe(415);
    expect(String(rs.headers.accept)).toBe("application/pidf+xml");
  });

  it("too brief an interval: 423 with Min-Expires; too long is shortened to the maximum", async () => {
    const brief = await ask(publish({ body: pidf(3500, "x"), extra: ["Event: presence", "Expires: 1"] }));
    expect(brief.status).toBe(423);
    expect(String(brief.headers["min-expires"])).toBe("2");
    const long = await ask(publish({ body: pidf(3500, "long"), extra: ["Event: presence", "Expires: 999999"] }));
    expect(long.status).toBe(200);
    expect(String(long.headers.expires)).toBe("3600");
    const removed = await ask(publish({ extra: ["Event: presence", "Expires: 0", `SIP-If-Match: ${long.headers["sip-etag"]}`] }));
    expect(removed.status).toBe(200);
  });

  it("an unknown entity-tag: 412; an initial PUBLISH without a body: 400", async () => {
    expect((await ask(publish({ extra: ["Event: presence", "Expires: 600", "SIP-If-Match: nosuchtag"] }))).status).toBe(412);
    expect((await ask(publish({}))).status).toBe(400);
  });

  it("a partner may not publish for another domain's users, nor for ours", async () => {
    const other = await ask(publish({ uri: "sip:carol@other.test", body: pidf(3500, "x", "sip:carol@other.test") }));
    expect(other.status).toBe(403);
    expect(String(other.headers.warning)).toContain("partner.test may only publish the state of its own users");
    expect((await ask(publish({ uri: "sip:bob@corp.test", body: pidf(3500, "x", "sip:bob@corp.test") }))).status).toBe(403);
  });

  it("malformed PIDF: 400 with the reason", async () => {
    const rs = await ask(publish({ body: "<presence xmlns='urn:ietf:params:xml:ns:pidf'><tuple>" }));
    expect(rs.status).toBe(400);
    expect(String(rs.headers.warning)).toContain("PIDF");
  });

  it("OPTIONS lists PUBLISH in Allow", async () => {
    c.write(rawRequest({ method: "OPTIONS" }));
    const rs = await c.next((m) => m.headers.cseq?.method === "OPTIONS");
    expect(String(rs.headers.allow)).toContain("PUBLISH");
  });

  it("a probe at login is answered from what is published; when it expires bob gets unavailable", async () => {
    events.length = 0;
    const created = await ask(publish({ body: pidf(15500, "gone fishing"), extra: ["Event: presence", "Expires: 2"] }));
    expect(created.status).toBe(200);
    await until(() => fromAlice().find((e) => e.presence?.state === "away"), 3_000, "away at bob");
    // A second device logs in: the core probes alice, and the answer comes from the publication.
    const phoneEvents: CoreEvent[] = [];
    const phone = await core.connect("bob@corp.test", "phone", { push: (e) => phoneEvents.push(e) });
    await phone.presence({ state: "available" }, 0);
    const probed = await until(() => phoneEvents.find((e) => e.kind === "presence" && e.from === "alice@partner.test"), 3_000, "probe answer");
    expect(probed).toMatchObject({ presence: { state: "away", note: "gone fishing" } });
    // Not refreshed: after its 2 s the state is gone, for both devices.
    await until(() => fromAlice().find((e) => e.type === "unavailable"), 4_000, "unavailable at bob after expiry");
    await until(() => phoneEvents.find((e) => e.kind === "presence" && e.from === "alice@partner.test" && e.type === "unavailable"), 1_000, "unavailable at the phone");
    // The expired publication is no longer held.
    expect((await h.ctx.metrics.getSingleMetric("demarc_sip_publications")!.get()).values[0]?.value).toBe(0);
    await phone.close();
  });
});
