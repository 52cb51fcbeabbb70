/**
 * File-transfer links from a client (XEP-0066 out-of-band data, as HTTP
 * upload clients send them) reach the compliance profiles for file-transfer,
 * apart from plain messages, through the real compliance module.
 * Loopback address: 127.0.14.2.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { complianceModule } from "../../../src/pipeline/module.js";
import { startBench, login, xml, isMsg, type Bench, type User } from "./helpers.js";

const POLICY = `kind: policy
profiles:
  - id: links
    kinds: [file-transfer]
    priority: 20
    stages: [rules]
  - id: chat
    kinds: [message]
    priority: 10
    stages: []
rules:
  - id: no-file-links
    when: { kind: file-transfer }
    then: { action: block, reason: "Files may only be shared through the document system." }
`;

let b: Bench;
let alice: User;
let bob: User;

beforeAll(async () => {
  const policies = join(mkdtempSync(join(tmpdir(), "demarc-ft-")), "policies");
  mkdirSync(policies);
  writeFileSync(join(policies, "10-links.yaml"), POLICY);
  b = await startBench("127.0.14.2", { policy: { dir: policies, watch: false } }, { modules: { before: [complianceModule()] } });
  await b.addUser("alice");
  await b.addUser("bob");
  alice = await login(b, "alice", { resource: "desk" });
  bob = await login(b, "bob", { resource: "desk" });
  await bob.send(xml("presence"));
  await alice.send(xml("presence"));
});
afterAll(async () => {
  await alice?.stop();
  await bob?.stop();
  await b?.close();
});

describe("file-transfer links over c2s", () => {
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
});
