import { describe, expect, it } from "vitest";
import { envelope, pipelineFor } from "./fixtures.js";

const policy = `kind: policy
rules:
  - id: tag-all
    then: { action: tag, tags: [seen-by-rules] }
walls:
  - id: w
    from: ["*@research.corp.example"]
    to: ["*@trading.corp.example"]
profiles:
  - id: messages
    kinds: [message]
    priority: 10
    stages: [rules]
  - id: risky-partner
    kinds: [message]
    partners: ["*.risky.example"]
    priority: 20
    stages: [walls]
  - id: same-priority-later
    kinds: [message]
    priority: 10
    stages: []
  - id: presence-off
    kinds: [presence]
    stages: []
`;

describe("compliance profiles", () => {
  const p = pipelineFor({ "00.yaml": policy });

  it("the matching profile with the highest priority chooses the stages", async () => {
    const t = await p.trace(envelope({ to: "x@a.risky.example", partnerDomain: "a.risky.example" }));
    expect(t.profile).toBe("risky-partner");
    expect(t.stages).toEqual(["walls"]);
    expect(t.decision.envelope.tags).toBeUndefined();
  });

  it("on equal priority the profile written first wins", async () => {
    const t = await p.trace(envelope());
    expect(t.profile).toBe("messages");
    expect(t.decision.envelope.tags).toEqual(["seen-by-rules"]);
  });

  it("a profile with no stages lets its traffic through unchecked, walls included", async () => {
    const t = await p.trace(envelope({ kind: "presence", direction: "internal", from: "a@research.corp.example", to: "b@trading.corp.example" }));
    expect(t.profile).toBe("presence-off");
    expect(t.decision.deliver).toBe(true);
    expect(t.decision.verdicts).toEqual([]);
  });

  it("traffic no profile matches goes through the default chain", async () => {
    const t = await p.trace(envelope({ kind: "subscription", direction: "internal", from: "a@research.corp.example", to: "b@trading.corp.example" }));
    expect(t.profile).toBeUndefined();
    expect(t.stages).toEqual(["limits", "walls", "rules", "lexicons"]);
    expect(t.decision.deliver).toBe(false);
    expect(t.decision.verdicts.map((v) => v.ruleId)).toEqual(["w"]);
  });
});
