import { describe, expect, it } from "vitest";
import { regexHazard } from "../../../src/pipeline/lexicon/regex-safety.js";
import { loadPolicy } from "../../../src/pipeline/policy/index.js";
import { policyDir, policyProblems } from "../fixtures.js";

const problems = policyProblems;

describe("regexHazard", () => {
  it.each([
    ["(a+)+$", /repetition inside a repetition in \(a\+\)\+/],
    ["(\\w+\\s?)+", /repetition inside a repetition/],
    ["(a|aa)+", /alternatives in \(a\|aa\)\+ can start with the same character/],
    ["(A|a)+", /alternatives/], // policy regexes ignore case
    [".*x.*y", /^\.\* and \.\* can both match the same run of text/],
    ["\\s*\\s*x", /\\s\* and \\s\* can both match/],
    ["\\d+\\s*\\d+", /\\d\+ and \\d\+ can both match/],
    ["(?=.*x.*y)", /can both match/],
    ["a.*(?:bx|c)y.*", /can both match/], // what lies between need not be one repeated character
  ])("refuses %s", (pattern, why) => {
    expect(regexHazard(pattern)).toMatch(why);
  });

  it.each([
    "\\bQ[1-4]\\s+(results|earnings)\\b.*\\b(draft|preliminary)\\b",
    "\\bnon[- ]public\\b",
    "\\bEMP-\\d{6}\\b",
    "wire \\$\\d+",
    ".*secret",
    "(foo|bar)+",
    "\\w+\\s+\\w+",
    "[a-z]+@[a-z]+\\.com",
    "(?<=\\s)x(?<!y)",
    "(?<year>\\d{4})-\\d\\d",
    // the rewrites the messages suggest
    "[\\w\\s]+",
    "(a[bc])+",
    "a[^b]*b.*c",
  ])("accepts %s", (pattern) => {
    expect(regexHazard(pattern)).toBeUndefined();
  });
});

describe("unsafe regexes in policy files", () => {
  it("are refused at load with file, line and rule id, wherever a policy regex is written", () => {
    const ps = problems({
      "10-dlp.yaml": [
        "kind: policy",
        "rules:",
        "  - id: safe-rule",
        "    when: { body: ['\\bsecret\\b'] }",
        "    then: { action: block }",
        "  - id: nested-rule",
        "    when:",
        "      body:",
        "        - '\\bfine\\b'",
        "        - '(a+)+$'",
        "    then: { action: block }",
        "  - id: alt-rule",
        "    when: { words: [codename] }",
        "    then:",
        "      action: redact",
        "      patterns: ['(a|aa)+']",
        "",
      ].join("\n"),
      "lexicon-codes.yaml": "kind: lexicon\nid: codes\npatterns:\n  - 'EMP-\\d{6}'\n  - '.*x.*y'\n",
      "20-uses.yaml": "kind: policy\nrules:\n  - id: uses-codes\n    when: { lexicons: [codes] }\n    then: { action: block }\n",
    });
    expect(ps).toHaveLength(3); // the rule naming the refused lexicon is not also told it is unknown
    expect(ps[0]).toMatch(/^lexicon-codes\.yaml:5: lexicon codes: unsafe regular expression '\.\*x\.\*y': \.\* and \.\* can both match/);
    expect(ps[1]).toMatch(/^10-dlp\.yaml:10: rule nested-rule: unsafe regular expression '\(a\+\)\+\$': a repetition inside a repetition .*becomes \[\\w\\s\]\+\)$/);
    expect(ps[2]).toMatch(/^10-dlp\.yaml:16: rule alt-rule: unsafe regular expression '\(a\|aa\)\+': alternatives .*becomes \(a\[bc\]\)\+\)$/);
  });

  it("a safe pattern loads", () => {
    const { set } = loadPolicy(policyDir({ "10.yaml": "kind: policy\nrules:\n  - id: r\n    when: { body: ['.*secret', '\\bQ[1-4] results\\b'] }\n    then: { action: block }\n" }));
    expect(set.rules.map((r) => r.id)).toEqual(["r"]);
  });
});
