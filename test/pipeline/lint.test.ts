import { describe, expect, it } from "vitest";
import { loadPolicy } from "../../src/pipeline/policy/index.js";
import { hoursProblem, partnerProblem, zoneProblem } from "../../src/pipeline/policy/lint.js";
import { policyDir, policyProblems } from "./fixtures.js";

const rule = (id: string, when: string) => `  - id: ${id}\n    when: ${when}\n    then: { action: block }\n`;

describe("policy lint", () => {
  it.each(["18:00-24:60", "25:00-26:00", "09:60-10:00", "24:00-06:00", "09:00-09:00", "24:30-01:00"])("refuses hours %s", (h) => {
    expect(hoursProblem(h)).toMatch(new RegExp(`^hours "${h}"`));
  });
  it.each(["18:00-24:00", "00:00-24:00", "22:00-06:00", "9:30-17:45"])("accepts hours %s", (h) => {
    expect(hoursProblem(h)).toBeUndefined();
  });
  it.each(["Mars/Olympus", "+02:00", "GMT+2", "europe london"])("refuses zone %s", (z) => expect(zoneProblem(z)).toMatch(/unknown time zone/));
  it.each(["Europe/London", "America/New_York", "UTC", "Etc/GMT+5"])("accepts zone %s", (z) => expect(zoneProblem(z)).toBeUndefined());
  it.each([
    ["xmpp://partner.example", /no scheme/],
    ["https://partner.example", /no scheme/],
    ["sip:partner.example", /no scheme/],
    ["partner.example:5269", /no port/],
    ["bob@partner.example", /not addresses/],
    ["partner.example/path", /no path/],
    ["part ner.example", /not a domain pattern/],
  ])("refuses partner %s", (p, why) => expect(partnerProblem(p)).toMatch(why));
  it.each(["*", "partner.example", "*.partner.example", "p*.example"])("accepts partner %s", (p) => expect(partnerProblem(p)).toBeUndefined());

  it("reports each error with file, line and rule id, and loads nothing", () => {
    const ps = policyProblems({
      "10.yaml": [
        "kind: policy",
        "rules:",
        rule("evening", '{ time: { hours: "18:00-24:60" } }').trimEnd(),
        rule("night", '{ time: { hours: "25:00-26:00", zone: Mars/Olympus } }').trimEnd(),
        rule("porty", '{ partners: ["partner.example:5269"] }').trimEnd(),
        rule("inside", "{ direction: internal, partners: [\"*\"] }").trimEnd(),
        "limits:",
        "  - id: rate",
        "    description: At most 600 messages a minute per partner.",
        "    per: partner",
        "    max_messages: 600",
        "    window_s: 30",
        "",
      ].join("\n"),
    });
    expect(ps).toEqual([
      '10.yaml:4: rule evening: hours "18:00-24:60": times run from 00:00 to 24:00 (minutes 00-59)',
      '10.yaml:7: rule night: hours "25:00-26:00": times run from 00:00 to 24:00 (minutes 00-59)',
      '10.yaml:7: rule night: unknown time zone "Mars/Olympus" (an IANA name such as Europe/London, America/New_York or UTC)',
      '10.yaml:10: rule porty: partner "partner.example:5269": no port; partners are domains (ports belong in the config\'s partners and s2s settings)',
      "10.yaml:13: rule inside: can never fire: internal traffic has no partner, so a partners condition never holds on it",
      '10.yaml:17: limit rate: description says "600 messages a minute" but the limit lets 600 messages through per 30 s window',
    ]);
  });

  it("warns, and still loads, for a wall from a group to itself and partners the federation settings refuse", () => {
    const dir = policyDir({
      "10.yaml": [
        "kind: policy",
        "groups: { traders: ['*@trading.corp.example'] }",
        "walls:",
        "  - id: self",
        "    from: group:traders",
        "    to: [group:traders]",
        "rules:",
        rule("unlisted", '{ partners: ["*.stranger.example"] }').trimEnd(),
        rule("denied", '{ partners: ["evil.example"] }').trimEnd(),
        rule("listed", '{ partners: ["partner.example"] }').trimEnd(),
        "",
      ].join("\n"),
    });
    const { set } = loadPolicy(dir, { federation: { mode: "allow-listed", partners: ["partner.example", "evil.example"], deny: ["evil.example"] } });
    expect(set.warnings.map((w) => w.replaceAll(`${dir}/`, ""))).toEqual([
      "10.yaml:6: wall self: warning: a wall from group:traders to itself stops its members reaching each other; name two different groups",
      "10.yaml:9: rule unlisted: warning: can never fire under federation.mode allow-listed: no configured partner matches *.stranger.example",
      "10.yaml:12: rule denied: warning: can never fire under federation.mode allow-listed: no configured partner matches evil.example",
    ]);
    expect(loadPolicy(dir, { federation: { mode: "open", partners: [], deny: ["evil.example"] } }).set.warnings.map((w) => w.replace(/^.*10\.yaml/, "10.yaml"))).toEqual([
      "10.yaml:6: wall self: warning: a wall from group:traders to itself stops its members reaching each other; name two different groups",
      "10.yaml:12: rule denied: warning: can never fire: evil.example is on federation.deny",
    ]);
  });
});
