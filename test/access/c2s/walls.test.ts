/**
 * An ethical wall between groups set only on accounts (what `users add
 * --group` and CSV import write), over real c2s sessions: messages are refused
 * both ways, presence does not cross either way, and a group set while the
 * gateway runs counts after the directory refreshes. The gateway is wired as
 * the composition root wires it: one group directory for compliance and core.
 * Loopback address: 127.0.51.1.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Element } from "../../../src/xmpp/xml.js";
import { makeCredentials } from "../../../src/access/c2s/credentials.js";
import { KnexStore } from "../../../src/core/knex-store.js";
import { emptyItem } from "../../../src/core/subscription.js";
import type { GatewayModule } from "../../../src/module.js";
import { directoryModule } from "../../../src/pipeline/directory.js";
import { GroupDirectory } from "../../../src/pipeline/groups.js";
import { complianceModule } from "../../../src/pipeline/module.js";
import { startBench, login, xml, isMsg, type Bench, type User } from "./helpers.js";

// No groups: in the policy and none in core.groups: the groups exist only on accounts.
const POLICY = `kind: policy
walls:
  - id: wall-research-trading
    from: group:research
    to: group:trading
    reason: "An information barrier prevents this conversation."
`;

const ACCOUNTS: [local: string, group: string | undefined][] = [["alice", "research"], ["dave", "trading"], ["bob", undefined], ["erin", undefined]];

/** Writes the accounts before the directory reads them, with the store call `users add --group` makes. */
function seedAccounts(): GatewayModule {
  return {
    name: "seed",
    async start(ctx) {
      const store = new KnexStore(ctx.db);
      for (const [local, group] of ACCOUNTS) await store.putUser({ jid: `${local}@corp.test`, group, credentials: makeCredentials(`pw-${local}`) });
      const both = (a: string, b: string) => store.putItem(`${a}@corp.test`, { ...emptyItem(`${b}@corp.test`), subscription: "both" });
      for (const [a, b] of [["alice", "dave"], ["alice", "bob"], ["dave", "bob"], ["alice", "erin"]]) await Promise.all([both(a!, b!), both(b!, a!)]);
    },
    async stop() {},
  };
}

let b: Bench;
let directory: GroupDirectory;
let alice: User, dave: User, bob: User;

const presenceFrom = (local: string) => (el: Element) => el.name === "presence" && String(el.attrs.from ?? "").startsWith(`${local}@corp.test/`) && el.attrs.type !== "error";
const errorOf = (id: string) => (el: Element) => el.name === "message" && el.attrs.id === id && el.attrs.type === "error";
const condition = (el: Element) => el.getChild("error")?.getChildElements()[0]?.name;
/** A ping answered by the server: everything the server wrote to this session before it has arrived. */
const roundTrip = (u: User, id: string) => u.iq(xml("iq", { type: "get", id }, xml("ping", { xmlns: "urn:xmpp:ping" })));

beforeAll(async () => {
  const policies = join(mkdtempSync(join(tmpdir(), "demarc-walls-")), "policies");
  mkdirSync(policies);
  writeFileSync(join(policies, "30-walls.yaml"), POLICY);
  directory = new GroupDirectory();
  const compliance = complianceModule({ directory });
  b = await startBench(
    "127.0.51.1",
    { policy: { dir: policies, watch: false }, core: { groups_refresh_s: 0 } },
    {
      modules: { before: [seedAccounts(), directoryModule(directory), compliance] },
      core: { directory, walled: (x, y) => compliance.pipeline?.walled(x, y, "presence") ?? false },
    },
  );
  [alice, dave, bob] = await Promise.all([login(b, "alice"), login(b, "dave"), login(b, "bob")]);
});
afterAll(async () => {
  for (const u of [alice, dave, bob]) await u?.stop();
  await b?.close();
});

describe("a wall between groups set only on accounts", () => {
  it("the directory has the accounts' groups", () => {
    expect(directory.definedBy("research")).toEqual(["accounts"]);
    expect(directory.groupsOf("dave@corp.test")).toEqual(["trading"]);
  });

  it("presence does not cross the wall either way, though the rosters say both", async () => {
    for (const u of [alice, dave, bob]) await u.send(xml("presence"));
    // bob sees both and both see bob: presence flowed.
    await Promise.all([bob.waitFor(presenceFrom("alice")), bob.waitFor(presenceFrom("dave")), alice.waitFor(presenceFrom("bob")), dave.waitFor(presenceFrom("bob"))]);
    await Promise.all([roundTrip(alice, "sync-2"), roundTrip(dave, "sync-3")]);
    expect(dave.all(presenceFrom("alice"))).toEqual([]);
    expect(alice.all(presenceFrom("dave"))).toEqual([]);
  });

  it("refuses messages both ways with the wall's text; others pass", async () => {
    await alice.send(xml("message", { to: "dave@corp.test", type: "chat", id: "w-1" }, xml("body", {}, "our downgrade is out tomorrow")));
    const e1 = await alice.waitFor(errorOf("w-1"));
    expect(condition(e1)).toBe("policy-violation");
    expect(e1.getChild("error")?.getChildText("text", "urn:ietf:params:xml:ns:xmpp-stanzas")).toBe("An information barrier prevents this conversation.");
    await dave.send(xml("message", { to: "alice@corp.test", type: "chat", id: "w-2" }, xml("body", {}, "what is the rating?")));
    expect(condition(await dave.waitFor(errorOf("w-2")))).toBe("policy-violation");

    await alice.send(xml("message", { to: "bob@corp.test", type: "chat", id: "w-3" }, xml("body", {}, "lunch?")));
    await bob.waitFor(isMsg("lunch?"));
    await roundTrip(dave, "sync-1");
    expect(dave.all((el) => el.name === "message" && el.getChildText("body") === "our downgrade is out tomorrow")).toEqual([]);
    expect(alice.all((el) => el.name === "message" && el.getChildText("body") === "what is the rating?")).toEqual([]);
  });

  it("a group set on an account while running counts once the directory refreshes", async () => {
    const erin = await login(b, "erin");
    try {
      await erin.send(xml("presence"));
      await alice.send(xml("message", { to: "erin@corp.test", type: "chat", id: "w-4" }, xml("body", {}, "before")));
      await erin.waitFor(isMsg("before"));

      await b.addUser("erin", "pw-erin", "trading"); // what `users add --group trading` writes
      await directory.refresh();
      await alice.send(xml("message", { to: "erin@corp.test", type: "chat", id: "w-5" }, xml("body", {}, "after")));
      expect(condition(await alice.waitFor(errorOf("w-5")))).toBe("policy-violation");
    } finally {
      await erin.stop();
    }
  });
});
