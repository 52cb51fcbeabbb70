/**
 * Export formats as an analyst's tools read them: CSV cells a spreadsheet
 * would run as formulas are neutralised (OWASP), mbox headers carry bare
 * addresses with RFC 2047 only in display names, and every format carries the
 * whole verdict list (enforced and shadow).
 */
import { describe, expect, it } from "vitest";
import { formatRecord, toJson } from "../../src/archive/export.js";
import { toRecord, type StoredRecord } from "../../src/archive/record.js";
import { csvCell, mailbox } from "../../src/archive/export-text.js";
import type { Decision } from "../../src/model/route.js";
import { allow, envelope } from "./helpers.js";

function stored(over: Parameters<typeof envelope>[0] = {}, decision?: Partial<Decision>): StoredRecord {
  const env = envelope(over);
  return { ...toRecord(env, allow(env, decision)), seq: 7, hash: Buffer.alloc(32, 1), purgeId: null };
}

/** Splits one RFC 4180 line into its cells (quoted cells may hold commas and quotes). */
function cells(line: string): string[] {
  const out: string[] = [];
  const re = /("(?:[^"]|"")*"|[^,]*)(,|$)/gy;
  for (let m = re.exec(line); m && m[0] !== ""; m = re.exec(line)) out.push(m[1]!);
  return out;
}

const VERDICTS = [
  { stage: "rules", ruleId: "watch-merger", action: "block", reason: "would block", shadow: true },
  { stage: "rules", ruleId: "tag-legal", action: "allow", reason: "légal", shadow: false },
];

describe("CSV export", () => {
  it("neutralises cells a spreadsheet would evaluate, as OWASP recommends", () => {
    for (const evil of ['=HYPERLINK("http://evil.test","click")', "@SUM(1+1)*cmd", "+1+1", "-2+3", "\t=1+1", "\r=1+1"]) {
      const cell = csvCell(evil);
      expect(cell, evil).toBe(`"'${evil.replace(/"/g, '""')}"`);
    }
    expect(csvCell("plain text")).toBe("plain text");
    expect(csvCell("a, b")).toBe('"a, b"');
    expect(csvCell(12)).toBe("12");
  });

  it("a partner's formula body lands as text in the record's row", () => {
    const line = formatRecord("csv", stored({ body: '=HYPERLINK("http://evil.test","click")', subject: "@SUM(1+1)*cmd" }));
    const row = cells(line.replace(/\r\n$/, ""));
    expect(row).toContain(`"'=HYPERLINK(""http://evil.test"",""click"")"`);
    expect(row).toContain(`"'@SUM(1+1)*cmd"`);
    expect(row.every((c) => !/^[=+\-@\t\r]/.test(c))).toBe(true);
  });

  it("carries every verdict, shadow hits included", () => {
    const row = cells(formatRecord("csv", stored({}, { verdicts: VERDICTS })).replace(/\r\n$/, ""));
    expect(row).toContain("rules/watch-merger=block (shadow); rules/tag-legal=allow");
  });
});

describe("mbox export", () => {
  it("puts bare addresses in From: and To:, the full address with its resource as the display name", () => {
    const text = formatRecord("mbox", stored({ from: "zoë@partner.example/phone", to: "bob@corp.test" }));
    const from = /^From: (.*)$/m.exec(text)![1]!;
    expect(from).toBe(`=?UTF-8?B?${Buffer.from("zoë@partner.example/phone").toString("base64")}?= <zoë@partner.example>`);
    expect(/^To: (.*)$/m.exec(text)![1]).toBe("<bob@corp.test>");
    expect(text).toMatch(/^From zoë@partner\.example \w{3} /);
    // No encoded word between the angle brackets.
    expect(from.slice(from.indexOf("<"))).not.toContain("=?");
  });

  it("quotes an ASCII display name, maps SIP and domain-only addresses", () => {
    expect(mailbox("carol@acme.example/pc")).toBe('"carol@acme.example/pc" <carol@acme.example>');
    expect(mailbox("sip:alice@partner.test;transport=tcp")).toBe('"sip:alice@partner.test;transport=tcp" <alice@partner.test>');
    expect(mailbox("partner.test")).toBe('"partner.test" <postmaster@partner.test>');
    expect(mailbox("bob@corp.test")).toBe("<bob@corp.test>");
  });

  it("carries every verdict as an X-Demarc-Rule header", () => {
    const text = formatRecord("mbox", stored({}, { verdicts: VERDICTS }));
    expect(text).toContain("X-Demarc-Rule: rules/watch-merger=block (shadow); would block\n");
    expect(text).toContain(`X-Demarc-Rule: =?UTF-8?B?${Buffer.from("rules/tag-legal=allow; légal").toString("base64")}?=\n`);
  });
});

describe("JSON lines export", () => {
  it("carries the verdict list with shadow flags", () => {
    const j = toJson(stored({}, { verdicts: VERDICTS }));
    expect(j.verdicts).toEqual(VERDICTS.map((v) => ({ ...v, detail: null })));
  });
});
