import { writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { loadPolicy } from "../../src/pipeline/policy/index.js";
import { policyDir, policyProblems } from "./fixtures.js";

const problems = policyProblems;

describe("policy files", () => {
  it("the shipped policies/ examples load cleanly, skipping the state map", () => {
    const { set, missing } = loadPolicy(resolve(import.meta.dirname, "../../policies"));
    expect(missing).toBe(false);
    expect(set.files.some((f) => f.endsWith("state-map.yaml"))).toBe(false);
    expect(set.ruleDefs.length).toBeGreaterThanOrEqual(5);
    expect(set.walls.map((w) => w.def.both_ways)).toEqual([true, false]);
    expect(set.externals[0]?.def.enabled).toBe(false);
    expect(set.defaultStages).not.toContain("external:vendor-dlp");
  });

  it("errors name the file, the line and the rule id", () => {
    const text = ["kind: policy", "rules:", "  - id: ok-rule", "    then: { action: block }", "  - id: bad-rule", "    when:", "      direction: sideways", "    then: { action: block }", ""].join("\n");
    const ps = problems({ "10-dlp.yaml": text });
    expect(ps).toHaveLength(1);
    expect(ps[0]).toBe("10-dlp.yaml:7: rule bad-rule: rules.1.when.direction: must be one of inbound, outbound, internal, or a list of them");
  });

  it("an unknown action, an unknown key and a bad regex are each reported", () => {
    const ps = problems({
      "a.yaml": "kind: policy\nrules:\n  - id: r1\n    then: { action: shred }\n",
      "b.yaml": "kind: policy\nrules:\n  - id: r2\n    when: { colour: red }\n    then: { action: block }\n",
      "c.yaml": "kind: policy\nrules:\n  - id: r3\n    when:\n      body: ['(unclosed']\n    then: { action: block }\n",
    });
    expect(ps[0]).toBe("a.yaml:4: rule r1: rules.0.then.action: action must be one of allow, block, redact, quarantine, tag, disclaimer, copy");
    expect(ps[1]).toBe('b.yaml:4: rule r2: rules.0.when.colour: unknown key "colour"');
    expect(ps).toHaveLength(2); // c.yaml is compiled only once every file parses
    const [only] = problems({ "c.yaml": "kind: policy\nrules:\n  - id: r3\n    when:\n      body: ['(unclosed']\n    then: { action: block }\n" });
    expect(only).toMatch(/^c\.yaml:5: rule r3: bad regular expression '\(unclosed': missing \)/);
  });

  it("kinds: missing or unknown kinds are errors, state-map is someone else's", () => {
    expect(problems({ "a.yaml": "rules: []\n" })).toEqual(["a.yaml:1: kind: missing (one of policy, lexicon, state-map)"]);
    expect(problems({ "a.yaml": "kind: polcy\n" })).toEqual(['a.yaml:1: kind: unknown kind "polcy" (one of policy, lexicon, state-map)']);
    const { set } = loadPolicy(policyDir({ "state-map.yaml": "kind: state-map\nanything: [goes]\n" }));
    expect(set.files).toEqual([]);
  });

  it("references are checked: lexicons, groups, profile stages, duplicate ids, YAML syntax", () => {
    const ps = problems({
      "a.yaml":
        "kind: policy\nrules:\n  - id: r\n    when: { lexicons: [nope], from: ['group:ghosts'] }\n    then: { action: block }\n" +
        "profiles:\n  - id: r\n    stages: [rules, external:missing]\n",
    });
    expect(ps).toEqual([
      'a.yaml:4: rule r: unknown lexicon "nope"',
      'a.yaml:4: rule r: unknown group "ghosts" (define it under groups:, in core.groups, or on accounts with users add --group)',
      "a.yaml:7: profile r: id already used at a.yaml:3",
      'a.yaml:7: profile r: stages.1: unknown stage "external:missing" (known: limits, walls, rules, lexicons)',
    ]);
    expect(problems({ "a.yaml": "kind: policy\nrules: [\n" })[0]).toMatch(/^a\.yaml:\d+: YAML syntax: /);
  });

  it("redact needs something to redact; a limit needs a limit", () => {
    const ps = problems({ "a.yaml": "kind: policy\nrules:\n  - id: r\n    when: { direction: outbound }\n    then: { action: redact }\nlimits:\n  - id: l\n    per: user\n" });
    expect(ps).toEqual(["a.yaml:7: limit l: limits.0: a limit needs max_messages or max_body_bytes"]);
    expect(problems({ "a.yaml": "kind: policy\nrules:\n  - id: r\n    when: { direction: outbound }\n    then: { action: redact }\n" })[0]).toMatch(
      /^a\.yaml:5: rule r: redact needs something to redact/,
    );
  });

  it("the version is a hash of the loaded files: same files, same version; an edit changes it", () => {
    const files = { "a.yaml": "kind: policy\nrules:\n  - id: r\n    then: { action: allow }\n" };
    const dir = policyDir(files);
    const v1 = loadPolicy(dir).set.version;
    expect(loadPolicy(policyDir(files)).set.version).toBe(v1);
    writeFileSync(join(dir, "a.yaml"), files["a.yaml"] + "# a comment\n");
    expect(loadPolicy(dir).set.version).not.toBe(v1);
  });

  it("a missing folder is an empty policy, not an error", () => {
    const { set, missing } = loadPolicy(join(policyDir({}), "nope"));
    expect(missing).toBe(true);
    expect(set.rules).toEqual([]);
  });
});
