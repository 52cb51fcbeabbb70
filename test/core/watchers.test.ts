import { describe, expect, it } from "vitest";
import { Sink, makeCore, online } from "./helpers.js";

const A = "alice@corp.test";
const B = "bob@corp.test";
const C = "carol@corp.test";

describe("watchersOf: who is subscribed to a presence, from the roster index", () => {
  it("names online users with a 'to' or 'both' subscription, and follows roster changes", async () => {
    const { core } = await makeCore([A, B, C]);
    const a = await online(core, A, "desk");
    const b = await online(core, B, "desk");
    const c = await online(core, C, "desk");
    // b subscribes to a and a approves: b's item for a is "to".
    await b.s.subscription(A, "subscribe");
    await a.s.subscription(B, "subscribed");
    // c only asks: its item for a stays "none" (pending out) until approved.
    await c.s.subscription(A, "subscribe");
    expect(core.watchersOf(A)).toEqual([B]);
    expect(core.watchersOf(`${A}/desk`)).toEqual([B]);
    expect(core.watchersOf(B)).toEqual([]);

    await a.s.subscription(C, "subscribed");
    expect(core.watchersOf(A).sort()).toEqual([B, C]);

    // Offline users watch nothing; back online, they watch again.
    b.s.close();
    expect(core.watchersOf(A)).toEqual([C]);
    const b2 = await core.connect(B, "phone", new Sink());
    await b2.presence({ state: "available" }, 0);
    expect(core.watchersOf(A).sort()).toEqual([B, C]);

    // Removing the contact removes the subscription and the index entry.
    await c.s.rosterRemove(A);
    expect(core.watchersOf(A)).toEqual([B]);
  });
});
