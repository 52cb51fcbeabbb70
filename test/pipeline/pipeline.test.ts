import { describe, expect, it } from "vitest";
import { envelope, pipelineFor, wiredRouter } from "./fixtures.js";

const rules = (body: string) => `kind: policy\nrules:\n${body}`;

describe("each action, end to end through the router", () => {
  it("block: nothing reaches the recipient; the sender gets policy-violation with the rule's text; the archive has the verdict", async () => {
    const p = pipelineFor({
      "10.yaml": rules(`  - id: no-falcon\n    when: { words: ["project falcon"] }\n    then: { action: block, reason: "No code names." }\n`),
    });
    const w = wiredRouter(p);
    const r = await w.router.route(envelope({ body: "about Project  FALCON today" }));
    expect(r).toEqual({ delivered: false, error: { condition: "policy-violation", type: "modify", text: "No code names." } });
    expect(w.remote).toHaveLength(0);
    expect(w.archived).toHaveLength(1);
    const d = w.archived[0]!.decision;
    expect(d.policyVersion).toBe(p.version);
    expect(d.policyVersion).toMatch(/^[0-9a-f]{16}$/);
    expect(d.verdicts).toEqual([{ stage: "rules", ruleId: "no-falcon", action: "block", reason: "No code names." }]);
    // "falconry" is not the word "falcon": whole words only.
    expect((await w.router.route(envelope({ body: "project falconry" }))).delivered).toBe(true);
  });

  it("redact: Luhn-valid card numbers are replaced, other digit runs are not", async () => {
    const p = pipelineFor({
      "cards.yaml": "kind: lexicon\nid: cards\ndetect: [card]\n",
      "10.yaml": rules(`  - id: redact-cards\n    when: { lexicons: [cards] }\n    then: { action: redact, replacement: "[card]" }\n`),
    });
    const w = wiredRouter(p);
    const r = await w.router.route(envelope({ body: "card 4111-1111-1111-1111 and 5500 0000 0000 0004, order 4111 1111 1111 1112" }));
    expect(r.delivered).toBe(true);
    expect(w.remote[0]!.body).toBe("card [card] and [card], order 4111 1111 1111 1112");
    expect(w.archived[0]!.original.body).toContain("4111-1111-1111-1111");
    expect(w.archived[0]!.decision.verdicts).toEqual([{ stage: "rules", ruleId: "redact-cards", action: "redact", detail: "2 redacted" }]);
  });

  it("redact: national ID detectors and custom patterns, and the presence note is scanned too", async () => {
    const p = pipelineFor({
      "ids.yaml": "kind: lexicon\nid: ids\ndetect: [us-ssn, uk-nino, iban]\npatterns: ['EMP-\\d{6}']\n",
      "10.yaml": rules(`  - id: pii\n    when: { lexicons: [ids] }\n    then: { action: redact }\n`),
    });
    const w = wiredRouter(p);
    await w.router.route(envelope({ body: "ssn 123-45-6789, nino AB 12 34 56 C, iban GB82 WEST 1234 5698 7654 32, emp-123456, not 000-12-3456" }));
    expect(w.remote[0]!.body).toBe("ssn [REDACTED], nino [REDACTED], iban [REDACTED], [REDACTED], not 000-12-3456");
    await w.router.route(envelope({ kind: "presence", body: undefined, presence: { state: "busy", note: "call me, ssn 123-45-6789" } }));
    expect(w.remote[1]!.presence).toEqual({ state: "busy", note: "call me, ssn [REDACTED]" });
  });

  it("quarantine: held, not delivered, recorded as quarantined", async () => {
    const w = wiredRouter(pipelineFor({ "10.yaml": rules(`  - id: hold\n    when: { body: ['wire \\$\\d+'] }\n    then: { action: quarantine, reason: "payment instruction" }\n`) }));
    const r = await w.router.route(envelope({ body: "please wire $5000 now" }));
    expect(r.delivered).toBe(false);
    expect(w.remote).toHaveLength(0);
    const d = w.archived[0]!.decision;
    expect(d.quarantined).toBe(true);
    expect(d.deliver).toBe(false);
    expect(d.verdicts[0]).toMatchObject({ ruleId: "hold", action: "quarantine", reason: "payment instruction" });
    expect(d.error?.condition).toBe("policy-violation");
  });

  it("tag and disclaimer: delivered with the tag recorded and the disclaimer appended once", async () => {
    const w = wiredRouter(
      pipelineFor({
        "10.yaml": rules(
          `  - id: t\n    when: { partners: ["*.example"] }\n    then: { action: tag, tags: [external, partner] }\n` +
            `  - id: d1\n    when: { direction: outbound }\n    then: { action: disclaimer, text: "Monitored." }\n` +
            `  - id: d2\n    when: { direction: outbound }\n    then: { action: disclaimer, text: "Monitored." }\n` +
            `  - id: d3\n    when: { direction: outbound }\n    then: { action: disclaimer, text: "CONFIDENTIAL", position: prepend }\n`,
        ),
      }),
    );
    await w.router.route(envelope({ body: "hi" }));
    expect(w.remote[0]!.body).toBe("CONFIDENTIAL\n\nhi\n\nMonitored.");
    expect(w.remote[0]!.tags).toEqual(["external", "partner"]);
    expect(w.archived[0]!.decision.verdicts.map((v) => v.ruleId)).toEqual(["t", "d1", "d2", "d3"]);
    // Inbound is not outbound: no disclaimer.
    await w.router.route(envelope({ direction: "inbound", from: "bob@partner.example", to: "alice@corp.example", body: "yo" }));
    expect(w.internal[0]!.body).toBe("yo");
  });

  it("copy: the decided message goes to the reviewer through the internal target, beside normal delivery", async () => {
    const w = wiredRouter(pipelineFor({ "10.yaml": rules(`  - id: cc\n    when: { partners: [partner.example] }\n    then: { action: copy, to: review@corp.example }\n`) }));
    const e = envelope({ body: "deal terms" });
    await w.router.route(e);
    expect(w.remote).toHaveLength(1);
    await new Promise((r) => setImmediate(r));
    expect(w.internal).toHaveLength(1);
    expect(w.internal[0]).toMatchObject({ id: `${e.id}.copy1`, to: "review@corp.example", direction: "internal", body: "deal terms" });
    expect(w.internal[0]!.tags).toContain(`copy-of:${e.id}`);
    expect(w.archived[0]!.decision.copies).toEqual([{ to: "review@corp.example", ruleId: "cc" }]);
  });

  it("allow ends the rules stage: later rules do not run", async () => {
    const w = wiredRouter(
      pipelineFor({
        "10.yaml": rules(
          `  - id: legal-ok\n    when: { from: ["*@legal.corp.example"] }\n    then: { action: allow }\n` +
            `  - id: no-falcon\n    when: { words: [falcon] }\n    then: { action: block }\n`,
        ),
      }),
    );
    expect((await w.router.route(envelope({ from: "lee@legal.corp.example", body: "falcon" }))).delivered).toBe(true);
    const blocked = await w.router.route(envelope({ body: "falcon" }));
    expect(blocked).toMatchObject({ delivered: false, error: { text: "This message was blocked by compliance policy." } });
  });

  it("shadow rules are recorded but not enforced", async () => {
    const w = wiredRouter(
      pipelineFor({
        "10.yaml": rules(
          `  - id: trial-block\n    shadow: true\n    when: { words: [falcon] }\n    then: { action: block }\n` +
            `  - id: trial-redact\n    shadow: true\n    when: { words: [falcon] }\n    then: { action: redact }\n`,
        ),
      }),
    );
    const r = await w.router.route(envelope({ body: "falcon" }));
    expect(r).toMatchObject({ delivered: true });
    expect(w.remote[0]!.body).toBe("falcon");
    expect(w.archived[0]!.decision.verdicts).toEqual([
      { stage: "rules", ruleId: "trial-block", action: "block", shadow: true },
      { stage: "rules", ruleId: "trial-redact", action: "redact", shadow: true, detail: "1 redacted" },
    ]);
  });

  it("time windows, in the rule's zone", async () => {
    const p = pipelineFor({
      "10.yaml": rules(`  - id: office\n    when: { time: { days: [mon, tue, wed, thu, fri], hours: "09:00-17:00", zone: America/New_York } }\n    then: { action: tag, tags: [office-hours] }\n`),
    });
    // Monday 2026-03-02 15:00 UTC is 10:00 in New York; 23:00 UTC is 18:00.
    const at = (iso: string) => p.trace(envelope(), Date.parse(iso)).then((t) => t.decision.envelope.tags ?? []);
    expect(await at("2026-03-02T15:00:00Z")).toEqual(["office-hours"]);
    expect(await at("2026-03-02T23:00:00Z")).toEqual([]);
    expect(await at("2026-03-01T15:00:00Z")).toEqual([]); // Sunday
  });

  it("a lexicon with on_match acts on its own in the lexicons stage", async () => {
    const w = wiredRouter(pipelineFor({ "x.yaml": "kind: lexicon\nid: insider\nwords: [inside information]\non_match: { action: tag, tags: [insider] }\n" }));
    await w.router.route(envelope({ body: "this is Inside\ninformation" }));
    expect(w.remote[0]!.tags).toEqual(["insider"]);
    expect(w.archived[0]!.decision.verdicts).toEqual([{ stage: "lexicons", ruleId: "insider", action: "tag", detail: "insider" }]);
  });
});

describe("ethical walls", () => {
  const groups = `kind: policy\ngroups:\n  research: ["*@research.corp.example"]\n  trading: ["*@trading.corp.example", "desk@corp.example"]\n  nda: [supplier.example]\n`;
  const walls =
    `walls:\n  - id: rt\n    from: group:research\n    to: group:trading\n` +
    `  - id: one-way\n    from: group:trading\n    to: group:nda\n    both_ways: false\n    reason: "No contact with suppliers under NDA."\n`;
  const internal = (from: string, to: string, kind: "message" | "presence" = "message") =>
    envelope({ direction: "internal", partnerDomain: undefined, from, to, kind });

  it("two-way: research and trading cannot reach each other, messages and presence alike", async () => {
    const w = wiredRouter(pipelineFor({ "10.yaml": groups + walls }));
    for (const [from, to] of [["ann@research.corp.example/x", "tom@trading.corp.example"], ["desk@corp.example", "ann@research.corp.example"]] as const) {
      for (const kind of ["message", "presence"] as const) {
        const r = await w.router.route(internal(from, to, kind));
        expect(r).toMatchObject({ delivered: false, error: { condition: "policy-violation" } });
      }
    }
    expect(w.internal).toHaveLength(0);
    expect(w.archived.every((a) => a.decision.verdicts[0]?.ruleId === "rt")).toBe(true);
    expect((await w.router.route(internal("ann@research.corp.example", "pat@corp.example"))).delivered).toBe(true);
  });

  it("one-way: trading may not reach the supplier, the supplier may reach trading", async () => {
    const w = wiredRouter(pipelineFor({ "10.yaml": groups + walls }));
    const out = await w.router.route(envelope({ from: "tom@trading.corp.example", to: "sam@supplier.example", partnerDomain: "supplier.example" }));
    expect(out).toMatchObject({ delivered: false, error: { text: "No contact with suppliers under NDA." } });
    const back = await w.router.route(
      envelope({ direction: "inbound", from: "sam@supplier.example", to: "tom@trading.corp.example", partnerDomain: "supplier.example" }),
    );
    expect(back.delivered).toBe(true);
  });
});

describe("rate and size limits", () => {
  it("per partner: the bucket empties, another partner is unaffected, and blocks say wait", async () => {
    const w = wiredRouter(pipelineFor({ "10.yaml": "kind: policy\nlimits:\n  - id: p\n    per: partner\n    max_messages: 3\n    window_s: 60\n" }));
    const results = [];
    for (let i = 0; i < 5; i++) results.push((await w.router.route(envelope())).delivered);
    expect(results).toEqual([true, true, true, false, false]);
    const last = w.archived.at(-1)!.decision;
    expect(last.error).toMatchObject({ condition: "policy-violation", type: "wait" });
    expect(last.verdicts[0]).toMatchObject({ stage: "limits", ruleId: "p", action: "block" });
    expect((await w.router.route(envelope({ to: "x@other.example", partnerDomain: "other.example" }))).delivered).toBe(true);
  });

  it("per user and by size", async () => {
    const w = wiredRouter(
      pipelineFor({
        "10.yaml":
          "kind: policy\nlimits:\n  - id: u\n    per: user\n    max_messages: 1\n  - id: size\n    per: partner\n    max_body_bytes: 10\n    reason: Too long.\n",
      }),
    );
    expect((await w.router.route(envelope({ from: "a@corp.example/1" }))).delivered).toBe(true);
    expect((await w.router.route(envelope({ from: "a@corp.example/2" }))).delivered).toBe(false);
    expect((await w.router.route(envelope({ from: "b@corp.example" }))).delivered).toBe(true);
    const big = await w.router.route(envelope({ from: "c@corp.example", body: "ééééééé" }));
    expect(big).toMatchObject({ delivered: false, error: { text: "Too long.", type: "modify" } });
  });
});
