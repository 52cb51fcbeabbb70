/**
 * The matchable form of a part: what rules compare, and the map back that
 * lets a redaction replace only what matched.
 */
import { describe, expect, it } from "vitest";
import { matchable, toMatchable, toOriginalSpans } from "../../src/pipeline/matchable.js";
import { pipelineFor } from "./fixtures.js";
import type { Envelope } from "../../src/model/envelope.js";

describe("matchable text", () => {
  it.each([
    ["full-width letters", "ｓｅｃｒｅｔ"],
    ["mathematical bold", "𝐬𝐞𝐜𝐫𝐞𝐭"],
    ["zero-width joiner and space, soft hyphen", "se\u200dc\u200br\u00adet"],
    ["strike-through combining marks", "s\u0336e\u0336c\u0336r\u0336e\u0336t\u0336"],
    ["Cyrillic look-alikes in a Latin word", "sеcrеt"],
    ["Greek look-alikes in a Latin word", "sεcrετ".replace("Τ", "t")],
    ["bidi override", "\u202esecret\u202c"],
  ])("reads %s as the plain word", (_what, text) => {
    expect(matchable(text)).toBe("secret");
  });

  it("leaves words wholly in another script alone, so rules in that script still match", () => {
    expect(matchable("секрет и тест")).toBe("секрет и тест");
    expect(matchable("这是测试")).toBe("这是测试");
  });

  it("maps matches back to the original, whole characters included", () => {
    const orig = "the ｓｅｃ\u200dret plan 👩‍💻 and sеcret";
    const m = toMatchable(orig);
    const spans = [...m.text.matchAll(/secret/g)].map((x) => [x.index!, x.index! + 6] as [number, number]);
    expect(toOriginalSpans(m, spans).map(([s, e]) => orig.slice(s, e))).toEqual(["ｓｅｃ\u200dret", "sеcret"]);
    expect(toOriginalSpans(toMatchable("plain ascii"), [[0, 5]])).toEqual([[0, 5]]);
  });

  it("redaction replaces only what matched: the rest of the part is delivered as written", async () => {
    const p = pipelineFor({ "10.yaml": "kind: policy\nrules:\n  - { id: r, when: { words: [secret] }, then: { action: redact, replacement: '***' } }\n" });
    const env: Envelope = {
      id: "m1", receivedAt: 0, direction: "inbound", protocol: "xmpp", kind: "message", from: "e@p.example/x", to: "b@corp.example", partnerDomain: "p.example",
      body: "Ｈｉ 👩‍💻 the ｓｅｃ\u200dret, café\u0301 and SECRET", nick: "sеcret agent",
    };
    const d = await p.evaluate(env);
    expect(d.envelope.body).toBe("Ｈｉ 👩‍💻 the ***, café\u0301 and ***");
    expect(d.envelope.nick).toBe("*** agent");
  });
});
