/**
 * The real compliance module between c2s users: file-transfer links from a
 * client (XEP-0066 out-of-band data, as HTTP upload clients send them) reach
 * the profiles for file-transfer, apart from plain messages; a copy rule
 * sends the supervision desk its own copy over its own session; a message
 * redacted for an offline user is stored offline only as redacted.
 * Loopback address: 127.0.14.2.
 */
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import knex from "knex";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { complianceModule } from "../../../src/pipeline/module.js";
import { startBench, login, xml, isMsg, type Bench, type User } from "./helpers.js";
import { until } from "../../helpers/wait.js";

const POLICY = `kind: policy
profiles:
  - id: links
    kinds: [file-transfer]
    priority: 20
    stages: [rules]
  - id: chat
    kinds: [message]
    priority: 10
    stages: [rules]
rules:
  - id: supervise-carol
    when: { kind: message, from: [carol@corp.test] }
    then: { action: copy, to: desk@corp.test }
  - id: redact-codeword
    when: { kind: message, words: [bluebird] }
    then: { action: redact, replacement: "[REDACTED]" }
  - id: no-file-links
    when: { kind: file-transfer }
    then: { action: block, reason: "Files may only be shared through the document system." }
`;

let b: Bench;
let alice: User;
let bob: User;
let carol: User;
let desk: User;

beforeAll(async () => {
  const policies = join(mkdtempSync(join(tmpdir(), "demarc-ft-")), "policies");
  mkdirSync(policies);
  writeFileSync(join(policies, "10-links.yaml"), POLICY);
  b = await startBench("127.0.14.2", { policy: { dir: policies, watch: false } }, { modules: { before: [complianceModule()] } });
  for (const u of ["alice", "bob", "carol", "desk"]) await b.addUser(u);
  [alice, bob, carol, desk] = await Promise.all([login(b, "alice"), login(b, "bob"), login(b, "carol"), login(b, "desk")]);
  for (const u of [alice, bob, carol, desk]) await u.send(xml("presence"));
});
afterAll(async () => {
  for (const u of [alice, bob, carol, desk]) await u?.stop();
  await b?.close();
});

describe("compliance between c2s users", () => {
  it("a link goes through the file-transfer profile and is refused with its rule's text; a plain message passes", async () => {
    const url = "https://upload.corp.test/f/q3-forecast.xlsx";
    await alice.send(xml("message", { to: "bob@corp.test", type: "chat", id: "ft-1" }, xml("body", {}, url), xml("x", { xmlns: "jabber:x:oob" }, xml("url", {}, url))));
    const err = await alice.waitFor((el) => el.name === "message" && el.attrs.id === "ft-1" && el.attrs.type === "error");
    expect(err.getChild("error")?.getChild("policy-violation", "urn:ietf:params:xml:ns:xmpp-stanzas")).toBeDefined();
    expect(err.getChild("error")?.getChildText("text", "urn:ietf:params:xml:ns:xmpp-stanzas")).toBe("Files may only be shared through the document system.");

    await alice.send(xml("message", { to: "bob@corp.test", type: "chat", id: "m-1" }, xml("body", {}, "see you at 3")));
    await bob.waitFor(isMsg("see you at 3"));
    expect(bob.all((el) => el.name === "message" && el.getChildText("body") === url)).toEqual([]);
  });

  it("a copy rule delivers the message and gives the supervision desk a copy of its own", async () => {
    await carol.send(xml("message", { to: "bob@corp.test", type: "chat", id: "c-1" }, xml("body", {}, "the numbers are in")));
    const got = await bob.waitFor(isMsg("the numbers are in"));
    expect(got.attrs.from).toBe("carol@corp.test/r1");
    const copy = await desk.waitFor(isMsg("the numbers are in"));
    expect(copy.attrs.from).toBe("carol@corp.test/r1");
    // alice's messages are not supervised.
    await alice.send(xml("message", { to: "bob@corp.test", type: "chat", id: "a-1" }, xml("body", {}, "lunch at noon")));
    await bob.waitFor(isMsg("lunch at noon"));
    expect(desk.all(isMsg("lunch at noon"))).toEqual([]);
    expect(carol.all((el) => el.name === "message" && el.attrs.type === "error")).toEqual([]);
  });

  it("stores a message redacted for an offline user only as redacted: the offline table never holds the word, in any part", async () => {
    await b.addUser("dave");
    const xhtml = xml("html", { xmlns: "http://jabber.org/protocol/xhtml-im" }, xml("body", { xmlns: "http://www.w3.org/1999/xhtml" }, xml("p", {}, "the ", xml("b", {}, "blue"), "bird plan")));
    await alice.send(
      xml("message", { to: "dave@corp.test", type: "chat", id: "off-1" },
        xml("subject", {}, "Bluebird"), xml("body", {}, "the bluebird plan"), xhtml, xml("nick", { xmlns: "http://jabber.org/protocol/nick" }, "bluebird fan")),
    );
    const dbFile = join(b.dir, "core.db");
    expect(existsSync(dbFile)).toBe(true);
    const db = knex({ client: "better-sqlite3", connection: { filename: dbFile }, useNullAsDefault: true });
    let rows: { envelope: string }[] = [];
    try {
      const read = async () => (rows = (await db("core_offline").select("envelope").where({ user_jid: "dave@corp.test" })) as { envelope: string }[]);
      await until(async () => (await read()).length > 0, 5_000, "the offline row").catch(() => undefined);
    } finally {
      await db.destroy();
    }
    expect(rows).toHaveLength(1);
    expect(rows[0]!.envelope).not.toMatch(/bluebird/i);
    const stored = JSON.parse(rows[0]!.envelope) as Record<string, unknown>;
    expect(stored).toMatchObject({ subject: "[REDACTED]", body: "the [REDACTED] plan", nick: "[REDACTED] fan" });
    expect(stored).not.toHaveProperty("original");

    const dave = await login(b, "dave");
    try {
      await dave.send(xml("presence"));
      const got = await dave.waitFor((el) => el.name === "message" && el.attrs.id === "off-1");
      expect(got.toString()).not.toMatch(/bluebird/i);
      expect(got.getChild("html", "http://jabber.org/protocol/xhtml-im")?.toString()).toContain("the [REDACTED] plan");
    } finally {
      await dave.stop();
    }
  });
});
