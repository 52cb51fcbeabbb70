/**
 * The component module inside a real Gateway, against scripted XEP-0114
 * servers: partners' stanzas reach the internal server that hosts the
 * recipient on the partner's stream; internal users' stanzas go to the
 * router as outbound Envelopes; a down internal server answers quickly with a
 * bounded wait; addresses an internal server may not use are refused.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { pino } from "pino";
import { configSchema } from "../../../src/config/schema.js";
import { Gateway } from "../../../src/gateway/gateway.js";
import { componentModule, internalRoutes, type ComponentModule } from "../../../src/edge/component/module.js";
import { tlsModule } from "../../../src/tls/module.js";
import type { Envelope } from "../../../src/model/envelope.js";
import { xml, NS_COMPONENT } from "../../../src/xmpp/index.js";
import { startComponentServer, type ComponentServer } from "../../helpers/component-server.js";
import { Sink } from "../../helpers/xmpp-gateway.js";

let gateway: Gateway | undefined;
const servers: ComponentServer[] = [];

afterEach(async () => {
  await gateway?.close();
  gateway = undefined;
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function start(internal: Record<string, unknown>[], edge: Record<string, unknown> = {}) {
  const dir = mkdtempSync(join(tmpdir(), "demarc-component-"));
  const parsed = configSchema.parse({
    domains: ["corp.test", "labs.test"],
    mode: "edge",
    data_dir: join(dir, "data"),
    archive: { url: "sqlite:archive.db" },
    partners: [{ domain: "partner-a.test" }, { domain: "partner-b.test" }],
    edge: { reconnect_initial_ms: 50, reconnect_max_ms: 200, ...edge, internal },
  });
  const tls = tlsModule();
  const component: ComponentModule = componentModule(tls.trust);
  const outbound = new Sink();
  gateway = new Gateway({ ...parsed, baseDir: dir, source: undefined }, pino({ level: "silent" }), [
    tls,
    component,
    { name: "remote-sink", start: async (ctx) => ctx.router.useRemote("xmpp", outbound), stop: async () => {} },
  ]);
  await gateway.start();
  return { component, outbound, router: gateway.context.router };
}

let n = 0;
const inbound = (from: string, to: string, body: string): Envelope => ({
  id: `t${++n}`,
  receivedAt: Date.now(),
  direction: "inbound",
  protocol: "xmpp",
  kind: "message",
  type: "chat",
  from,
  to,
  body,
  partnerDomain: from.split("@")[1]!.split("/")[0],
});

describe("component module", () => {
  it("routes each hosted domain to its internal server, on the sending partner's stream", async () => {
    const [corp, labs] = [await startComponentServer("s1"), await startComponentServer("s2")];
    servers.push(corp, labs);
    const { component, router } = await start([
      { domains: ["corp.test"], host: "127.0.0.1", port: corp.port, secret: "s1" },
      { domains: ["labs.test"], host: "127.0.0.1", port: labs.port, secret: "s2" },
    ]);
    expect([...component.links.keys()].sort()).toEqual(["0:partner-a.test", "0:partner-b.test", "1:partner-a.test", "1:partner-b.test"]);
    expect(await router.route(inbound("bob@partner-a.test/x", "alice@corp.test", "to corp"))).toMatchObject({ delivered: true });
    expect(await router.route(inbound("carol@partner-b.test/y", "lab@labs.test", "to labs"))).toMatchObject({ delivered: true });
    const atCorp = await corp.waitFor(() => corp.received[0]);
    expect(atCorp.attrs).toMatchObject({ xmlns: NS_COMPONENT, from: "bob@partner-a.test/x", to: "alice@corp.test" });
    expect(atCorp.getChildText("body")).toBe("to corp");
    const atLabs = await labs.waitFor(() => labs.received[0]);
    expect(atLabs.attrs.from).toBe("carol@partner-b.test/y");
    expect(corp.received).toHaveLength(1);
  });

  it("sends an internal user's stanza to the router as outbound, and refuses a from-domain the server does not host", async () => {
    const corp = await startComponentServer("s1");
    servers.push(corp);
    const { component, outbound } = await start([{ domains: ["corp.test"], host: "127.0.0.1", port: corp.port, secret: "s1" }]);
    await component.links.get("0:partner-a.test")!.waitOnline(3_000);
    corp.writeRaw(xml("message", { from: "alice@corp.test/desk", to: "bob@partner-a.test", id: "m1", type: "chat" }, xml("body", {}, "hi bob")).toString());
    const env = await outbound.waitFor((e) => e.body === "hi bob");
    expect(env).toMatchObject({ direction: "outbound", partnerDomain: "partner-a.test", from: "alice@corp.test/desk", to: "bob@partner-a.test", security: { auth: "password" } });

    corp.writeRaw(xml("message", { from: "mallory@labs.test", to: "bob@partner-a.test", id: "m2" }, xml("body", {}, "spoof")).toString());
    const err = await corp.waitFor(() => corp.received.find((e) => e.attrs.id === "m2"));
    expect(err.attrs).toMatchObject({ type: "error", from: "bob@partner-a.test", to: "mallory@labs.test", xmlns: NS_COMPONENT });
    expect(err.getChild("error")?.getChild("forbidden")).toBeTruthy();
    expect(outbound.delivered.map((e) => e.body)).toEqual(["hi bob"]);
  });

  it("answers within deliver_wait_ms while the internal server is down, and bounds how many wait", async () => {
    const gone = await startComponentServer("s1");
    await gone.close();
    const { router } = await start([{ domains: ["corp.test"], host: "127.0.0.1", port: gone.port, secret: "s1" }], { deliver_wait_ms: 300, queue_max: 2 });
    const t0 = Date.now();
    const results = await Promise.all([1, 2, 3, 4, 5].map((i) => router.route(inbound("bob@partner-a.test", "alice@corp.test", `m${i}`))));
    const conditions = results.map((r) => (r.delivered ? "delivered" : r.error.condition));
    expect(conditions.sort()).toEqual(["remote-server-timeout", "remote-server-timeout", "resource-constraint", "resource-constraint", "resource-constraint"]);
    expect(Date.now() - t0).toBeLessThan(2_000);
  });

  it("refuses a recipient domain no internal server hosts with service-unavailable", async () => {
    const corp = await startComponentServer("s1");
    servers.push(corp);
    const { router } = await start([{ domains: ["corp.test"], host: "127.0.0.1", port: corp.port, secret: "s1" }]);
    const r = await router.route(inbound("bob@partner-a.test", "x@labs.test", "nowhere"));
    expect(r).toMatchObject({ delivered: false, error: { condition: "service-unavailable" } });
  });

  it("starts a link for a partner added on reload and stops the one for a partner removed", async () => {
    const corp = await startComponentServer("s1");
    servers.push(corp);
    const { component } = await start([{ domains: ["corp.test"], host: "127.0.0.1", port: corp.port, secret: "s1" }]);
    const ctx = gateway!.context;
    ctx.config = { ...ctx.config, partners: configSchema.parse({ partners: [{ domain: "partner-a.test" }, { domain: "partner-c.test" }] }).partners };
    await component.reload!(ctx);
    expect([...component.links.keys()].sort()).toEqual(["0:partner-a.test", "0:partner-c.test"]);
    expect(await component.links.get("0:partner-c.test")!.waitOnline(3_000)).toBe(true);
    expect([...ctx.readiness.keys()].filter((k) => k.startsWith("component ")).sort()).toEqual([
      `component partner-a.test@127.0.0.1:${corp.port}`,
      `component partner-c.test@127.0.0.1:${corp.port}`,
    ]);
  });

  it("refuses a config where a domain is on two servers or not hosted", () => {
    const s = (domains: string[]) => ({ domains, host: "h", port: 1, secret: "x", tls: false });
    expect(() => internalRoutes(["a.test"], [s(["a.test"]), s(["a.test"])])).toThrow("edge.internal[1]: a.test is already served by edge.internal[0]");
    expect(() => internalRoutes(["a.test"], [s(["b.test"])])).toThrow("edge.internal[0]: b.test is not one of the hosted domains (domains:)");
    expect(internalRoutes(["a.test", "b.test"], [s(["a.test"]), s(["B.test"])])).toEqual(new Map([["a.test", 0], ["b.test", 1]]));
  });
});
