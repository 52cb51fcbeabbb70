/**
 * Accounts and rosters while the database is away: real PostgreSQL behind a
 * proxy the test cuts. The store serves accounts, rosters and block lists
 * from memory, queues changes and writes them in order when the database is
 * back; through a running gateway, a user logs in with the database cut and
 * /readyz says the database is unreachable (degraded, still 200).
 * Loopback address: 127.0.14.9 (c2s and admin).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adminModule } from "../../src/admin/server.js";
import { FallbackStore } from "../../src/core/fallback-store.js";
import { KnexStore } from "../../src/core/knex-store.js";
import { emptyItem } from "../../src/core/subscription.js";
import { login, startBench, type Bench } from "../access/c2s/helpers.js";
import { openPg, PG_SKIP_REASON, PG_URL, uniqueSchema, type TestDb } from "../archive/helpers.js";
import { startProxy, type TcpProxy } from "../archive/tcp-proxy.js";
import { openDatabase, type Db } from "../../src/archive/db.js";
import type { AccountStore } from "../../src/admin/server.js";
import { until } from "../helpers/wait.js";

function proxiedUrl(port: number, schema: string): string {
  const t = new URL(PG_URL!);
  return `${t.protocol}//${t.username}${t.password ? `:${t.password}` : ""}@127.0.0.1:${port}${t.pathname}?schema=${schema}`;
}

describe.skipIf(!PG_URL)(`FallbackStore (${PG_URL ? "PostgreSQL" : PG_SKIP_REASON})`, () => {
  let direct: TestDb & { schema: string };
  let proxy: TcpProxy;
  let viaProxy: Db;

  beforeAll(async () => {
    direct = await openPg();
    const t = new URL(PG_URL!);
    proxy = await startProxy("127.0.0.1", { host: t.hostname, port: Number(t.port || 5432) });
    viaProxy = await openDatabase(proxiedUrl(proxy.port, direct.schema), "/tmp", 2);
  });
  afterAll(async () => {
    await viaProxy?.destroy();
    await proxy?.close();
    await direct?.close();
  });

  it("serves accounts, rosters and blocks from memory while away, and replays changes in order when back", async () => {
    const seed = new KnexStore(direct.db);
    await seed.putUser({ jid: "alice@corp.test", credentials: { k: 1 } });
    await seed.putItem("alice@corp.test", { ...emptyItem("bob@corp.test"), subscription: "both" });
    await seed.setBlocked("alice@corp.test", ["spam@x.test"], true);
    const states: (string | undefined)[] = [];
    const store = new FallbackStore(new KnexStore(viaProxy), { readTimeoutMs: 500, retryMs: 50, onStateChange: (d) => states.push(d) });
    expect(await store.warm()).toBe(1);
    expect(await store.warmLists()).toBe(1);

    await proxy.cut();
    expect(await store.getUser("alice@corp.test")).toEqual({ jid: "alice@corp.test", credentials: { k: 1 } });
    expect(store.down).toBeDefined();
    expect(await store.getUser("nobody@corp.test")).toBeUndefined();
    expect((await store.loadRoster("alice@corp.test")).map((i) => [i.jid, i.subscription])).toEqual([["bob@corp.test", "both"]]);
    expect(await store.loadBlocks("alice@corp.test")).toEqual(["spam@x.test"]);
    // Changes while away: kept in memory at once, queued for the database.
    await store.putItem("alice@corp.test", { ...emptyItem("carol@corp.test"), name: "Carol" });
    await store.removeItem("alice@corp.test", "bob@corp.test");
    expect(store.queued).toBe(2);
    expect((await store.loadRoster("alice@corp.test")).map((i) => i.jid)).toEqual(["carol@corp.test"]);

    await proxy.restore();
    await until(() => store.queued === 0 && store.down === undefined, 10_000, "the queue to drain");
    expect((await seed.loadRoster("alice@corp.test")).map((i) => [i.jid, i.name])).toEqual([["carol@corp.test", "Carol"]]);
    expect(states[0]).toBeDefined();
    expect(states[states.length - 1]).toBeUndefined();

    // An outage seen by reads alone also ends: the store probes until the database answers.
    await proxy.cut();
    expect(await store.getUser("alice@corp.test")).toEqual({ jid: "alice@corp.test", credentials: { k: 1 } });
    expect(store.down).toBeDefined();
    await proxy.restore();
    await until(() => store.down === undefined, 10_000, "the store to come back");
    await seed.putUser({ jid: "dave@corp.test", credentials: {} });
    expect(await store.getUser("dave@corp.test")).toEqual({ jid: "dave@corp.test", credentials: {} });
    store.close();
  });
});

describe.skipIf(!PG_URL)(`a gateway without its database (${PG_URL ? "PostgreSQL" : PG_SKIP_REASON})`, () => {
  const ADDRESS = "127.0.14.9";
  const schema = uniqueSchema();
  // Wired as the composition root wires it: the readiness probe reports where accounts are served from.
  const admin = adminModule({ accounts: () => b?.core.store as AccountStore | undefined });
  let proxy: TcpProxy;
  let b: Bench;

  beforeAll(async () => {
    const t = new URL(PG_URL!);
    proxy = await startProxy("127.0.0.1", { host: t.hostname, port: Number(t.port || 5432) });
    b = await startBench(ADDRESS, { archive: { url: proxiedUrl(proxy.port, schema), connect_timeout_s: 2 }, admin: { enabled: true, host: ADDRESS, port: 0 } }, { modules: { after: [admin] } });
    await b.addUser("alice", "alice-password-1");
  });
  afterAll(async () => {
    await proxy?.restore().catch(() => undefined);
    await b?.close();
    const db = await openDatabase(PG_URL!, "/tmp", 5);
    await db.raw("drop schema if exists ?? cascade", [schema]);
    await db.destroy();
    await proxy?.close();
  });

  it("logs a user in with the database cut, and /readyz reports the database", async () => {
    const base = `http://${ADDRESS}:${admin.address!.port}`;
    expect(await (await fetch(`${base}/readyz`)).json()).toMatchObject({ status: "ready", database: { status: "ok" } });
    await proxy.cut();
    const alice = await login(b, "alice", { password: "alice-password-1", direct: true });
    expect(alice.jid).toBe("alice@corp.test/r1");
    await alice.stop();
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: "degraded", database: { status: "unreachable", accounts: "served from memory" } });
  });
});
