import { afterAll, beforeAll, describe, expect, it } from "vitest";
import knexFactory, { type Knex } from "knex";
import { migrate } from "../../src/archive/db.js";
import { KnexStore } from "../../src/core/knex-store.js";
import { MemoryStore, type CoreStore } from "../../src/core/store.js";
import { emptyItem } from "../../src/core/subscription.js";
import type { Envelope } from "../../src/model/envelope.js";

const env = (body: string, t: number): Envelope => ({
  id: `id-${body}`, receivedAt: t, direction: "internal", protocol: "xmpp", kind: "message", from: "a@corp.test/r", to: "b@corp.test", type: "chat", body,
});

/** One contract every CoreStore passes. */
function contract(name: string, open: () => Promise<{ store: CoreStore; close: () => Promise<void> }>) {
  describe(`CoreStore contract: ${name}`, () => {
    let store: CoreStore;
    let close: () => Promise<void>;
    beforeAll(async () => ({ store, close } = await open()));
    afterAll(async () => close());

    it("keeps accounts with opaque credentials and groups", async () => {
      await store.putUser({ jid: "b@corp.test", group: "staff", credentials: { "SCRAM-SHA-256": { salt: "x", iterations: 4096 } } });
      await store.putUser({ jid: "a@corp.test", credentials: {} });
      await store.putUser({ jid: "z@other.test", credentials: {} });
      expect(await store.getUser("b@corp.test")).toEqual({ jid: "b@corp.test", group: "staff", credentials: { "SCRAM-SHA-256": { salt: "x", iterations: 4096 } } });
      expect((await store.listUsers("corp.test")).map((u) => u.jid)).toEqual(["a@corp.test", "b@corp.test"]);
      await store.putUser({ jid: "b@corp.test", group: "execs", credentials: { v: 2 } });
      expect(await store.getUser("b@corp.test")).toMatchObject({ group: "execs", credentials: { v: 2 } });
    });

    it("round-trips roster items with every flag and replaces on conflict", async () => {
      const item = { ...emptyItem("c@x.test"), name: "C", groups: ["Friends", "Work"], subscription: "both" as const, ask: true, pendingIn: true, approved: true, hidden: false };
      await store.putItem("a@corp.test", item);
      expect(await store.loadRoster("a@corp.test")).toEqual([item]);
      await store.putItem("a@corp.test", { ...item, subscription: "to", ask: false, name: undefined });
      expect(await store.loadRoster("a@corp.test")).toEqual([{ ...item, subscription: "to", ask: false, name: undefined }]);
      const many = Array.from({ length: 1200 }, (_, i) => emptyItem(`u${i}@corp.test`));
      await store.putItems("b@corp.test", many);
      expect(await store.loadRoster("b@corp.test")).toHaveLength(1200);
      await store.removeItem("a@corp.test", "c@x.test");
      expect(await store.loadRoster("a@corp.test")).toEqual([]);
    });

    it("keeps block lists", async () => {
      await store.setBlocked("a@corp.test", ["x@corp.test", "spam.test"], true);
      await store.setBlocked("a@corp.test", ["x@corp.test"], true);
      expect((await store.loadBlocks("a@corp.test")).sort()).toEqual(["spam.test", "x@corp.test"]);
      await store.setBlocked("a@corp.test", ["spam.test"], false);
      expect(await store.loadBlocks("a@corp.test")).toEqual(["x@corp.test"]);
    });

    it("stores offline messages and hands them out once, oldest first", async () => {
      await store.storeOffline("b@corp.test", env("one", 1));
      await store.storeOffline("b@corp.test", env("two", 2));
      expect(await store.countOffline("b@corp.test")).toBe(2);
      expect((await store.takeOffline("b@corp.test")).map((m) => m.envelope)).toEqual([env("one", 1), env("two", 2)]);
      expect(await store.takeOffline("b@corp.test")).toEqual([]);
    });

    it("removes an account with all its state", async () => {
      await store.storeOffline("b@corp.test", env("three", 3));
      expect(await store.removeUser("b@corp.test")).toBe(true);
      expect(await store.getUser("b@corp.test")).toBeUndefined();
      expect(await store.loadRoster("b@corp.test")).toEqual([]);
      expect(await store.countOffline("b@corp.test")).toBe(0);
      expect(await store.removeUser("b@corp.test")).toBe(false);
    });
  });
}

contract("memory", async () => ({ store: new MemoryStore(), close: async () => undefined }));

contract("knex sqlite", async () => {
  const db: Knex = knexFactory({ client: "better-sqlite3", connection: { filename: ":memory:" }, useNullAsDefault: true, pool: { min: 1, max: 1 } });
  await migrate(db);
  return { store: new KnexStore(db), close: () => db.destroy() };
});

contract("knex postgresql", async () => {
  // A schema of this test's own, so parallel test files never share tables.
  const schema = `core_store_${process.pid}`;
  const admin: Knex = knexFactory({ client: "pg", connection: "postgres://postgres@127.0.0.1:5432/test" });
  await admin.raw(`drop schema if exists ${schema} cascade`);
  await admin.raw(`create schema ${schema}`);
  const db: Knex = knexFactory({ client: "pg", connection: "postgres://postgres@127.0.0.1:5432/test", searchPath: [schema], pool: { min: 0, max: 4 } });
  await migrate(db);
  return {
    store: new KnexStore(db),
    close: async () => {
      await db.destroy();
      await admin.raw(`drop schema if exists ${schema} cascade`);
      await admin.destroy();
    },
  };
});
