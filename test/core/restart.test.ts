/**
 * The core's state outlives the process: rosters with their subscription
 * states, pending requests, block lists and offline messages are in the
 * database, and a new core over the same SQLite file starts from them.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { migrate, openDatabase } from "../../src/archive/db.js";
import { PresenceCore } from "../../src/core/core.js";
import { KnexStore } from "../../src/core/knex-store.js";
import { online, settle } from "./helpers.js";

async function coreOn(dir: string) {
  const db = await openDatabase("sqlite:core.db", dir);
  await migrate(db);
  const store = new KnexStore(db);
  return { core: new PresenceCore({ domains: ["corp.test"], store }), store, db };
}

describe("core restart", () => {
  it("a new core over the same database has the rosters, pending requests, blocks and offline messages", async () => {
    const dir = mkdtempSync(join(tmpdir(), "demarc-core-restart-"));
    const first = await coreOn(dir);
    for (const jid of ["alice@corp.test", "bob@corp.test", "carol@corp.test", "dave@corp.test"]) await first.store.putUser({ jid, credentials: {} });
    const alice = await online(first.core, "alice@corp.test", "desk");
    const bob = await online(first.core, "bob@corp.test", "desk");
    // alice and bob: a mutual subscription; carol has asked alice and waits; alice blocked dave.
    await alice.s.subscription("bob@corp.test", "subscribe");
    await bob.s.subscription("alice@corp.test", "subscribed");
    await bob.s.subscription("alice@corp.test", "subscribe");
    await alice.s.subscription("bob@corp.test", "subscribed");
    const carol = await online(first.core, "carol@corp.test", "desk");
    await carol.s.subscription("alice@corp.test", "subscribe");
    await alice.s.block(["dave@corp.test"]);
    // dave is not online: bob's message waits in the database.
    expect(await bob.s.message({ to: "dave@corp.test", type: "chat", body: "see you monday" })).toMatchObject({ delivered: true });
    await settle();
    await first.db.destroy();

    const second = await coreOn(dir);
    const again = await online(second.core, "alice@corp.test", "laptop");
    // A request waiting for approval is not a roster item yet (RFC 6121 3.1.3).
    expect(again.s.roster().map((i) => [i.jid, i.subscription])).toEqual([["bob@corp.test", "both"]]);
    expect(again.s.blockList()).toEqual(["dave@corp.test"]);
    // RFC 6121 3.1.3: a pending request is delivered again at login.
    expect(again.sink.of("subscription").map((e) => [e.from, e.type])).toContainEqual(["carol@corp.test", "subscribe"]);
    const dave = await online(second.core, "dave@corp.test", "phone");
    expect(dave.sink.bodies()).toEqual(["see you monday"]);
    expect(await second.store.countOffline("dave@corp.test")).toBe(0);
    await second.db.destroy();
  });
});
