/**
 * Errors reach c2s users whole (RFC 6120 8.3.1): a partner's bounce arrives
 * with its <error/> (condition and text), and the sender of a message that
 * compliance holds for review is told so in the error's text.
 * Loopback address: 127.0.14.8.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { complianceModule } from "../../../src/pipeline/module.js";
import { renderMessage } from "../../../src/access/c2s/render.js";
import type { Envelope } from "../../../src/model/envelope.js";
import { startBench, login, xml, type Bench, type User } from "./helpers.js";

const STANZAS = "urn:ietf:params:xml:ns:xmpp-stanzas";
const POLICY = `kind: policy
rules:
  - id: hold-merger
    when: { kind: message, words: ["merger"] }
    then: { action: quarantine, reason: "Talk of the merger is reviewed." }
`;

let b: Bench;
let alice: User;
let bob: User;

beforeAll(async () => {
  const policies = join(mkdtempSync(join(tmpdir(), "demarc-render-")), "policies");
  mkdirSync(policies);
  writeFileSync(join(policies, "10-hold.yaml"), POLICY);
  b = await startBench("127.0.14.8", { policy: { dir: policies, watch: false } }, { modules: { before: [complianceModule()] } });
  for (const u of ["alice", "bob"]) await b.addUser(u);
  [alice, bob] = await Promise.all([login(b, "alice"), login(b, "bob")]);
  for (const u of [alice, bob]) await u.send(xml("presence"));
  // A stream's stanzas are handled in order: once a roster query is answered, the presence before it took effect.
  for (const u of [alice, bob]) await u.iq(xml("iq", { type: "get" }, xml("query", { xmlns: "jabber:iq:roster" })));
});
afterAll(async () => {
  for (const u of [alice, bob]) await u?.stop();
  await b?.close();
});

function bounce(error: Envelope["error"]): Envelope {
  return {
    id: `bounce-${Math.random()}`,
    receivedAt: Date.now(),
    direction: "inbound",
    protocol: "xmpp",
    kind: "message",
    from: "carol@partner.test",
    to: "alice@corp.test/r1",
    partnerDomain: "partner.test",
    type: "error",
    body: "hello carol",
    error,
  };
}

describe("errors to c2s clients", () => {
  it("a partner's bounce reaches the user with its <error/>, condition and text", async () => {
    await b.core.deliver(bounce({ type: "cancel", condition: "item-not-found", text: "carol left the company" }));
    const got = await alice.waitFor((el) => el.name === "message" && el.attrs.type === "error" && el.attrs.from === "carol@partner.test");
    const error = got.getChild("error");
    expect(error?.attrs.type).toBe("cancel");
    expect(error?.getChild("item-not-found", STANZAS)).toBeDefined();
    expect(error?.getChildText("text", STANZAS)).toBe("carol left the company");
  });

  it("an error envelope without a known condition still carries an <error/> (undefined-condition)", () => {
    const el = renderMessage(bounce(undefined), "alice@corp.test/r1");
    expect(el.getChild("error")?.getChild("undefined-condition", STANZAS)).toBeDefined();
    expect(renderMessage({ ...bounce(undefined), type: "chat" }, "alice@corp.test/r1").getChild("error")).toBeUndefined();
  });

  it("the sender of a held message is told it is held for compliance review, and the recipient gets nothing", async () => {
    await alice.send(xml("message", { to: "bob@corp.test", type: "chat", id: "held-1" }, xml("body", {}, "the merger closes friday")));
    const err = await alice.waitFor((el) => el.name === "message" && el.attrs.id === "held-1" && el.attrs.type === "error");
    expect(err.getChild("error")?.getChild("policy-violation", STANZAS)).toBeDefined();
    expect(err.getChild("error")?.getChildText("text", STANZAS)).toBe("This message is held for compliance review.");
    // A later message passes, and is the first thing bob gets from alice: the held one did not slip through.
    await alice.send(xml("message", { to: "bob@corp.test", type: "chat", id: "ok-1" }, xml("body", {}, "lunch?")));
    await bob.waitFor((el) => el.name === "message" && el.attrs.id === "ok-1");
    expect(bob.all((el) => el.name === "message" && el.getChildText("body") === "the merger closes friday")).toEqual([]);
  });
});
