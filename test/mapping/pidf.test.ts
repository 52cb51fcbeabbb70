/**
 * Hostile PIDF bodies (RFC 3863) get a PidfError, quickly: never a
 * RangeError, never work that grows faster than the document.
 */
import { describe, expect, it } from "vitest";
import { PidfError, readPidf } from "../../src/mapping/pidf.js";
import { bestMs } from "../helpers/timing.js";

const OPEN = `<presence xmlns="urn:ietf:params:xml:ns:pidf" entity="sip:a@partner.test">`;
const GOOD = `${OPEN}<tuple id="t"><status><basic>open</basic></status></tuple></presence>`;

function refusal(xml: string): unknown {
  try {
    readPidf(xml);
  } catch (err) {
    return err;
  }
  return undefined;
}

describe("readPidf on hostile documents", () => {
  it("refuses 9,000 nested elements (63 KB) with a PIDF error, not a RangeError", () => {
    const deep = `${OPEN}${"<a>".repeat(9_000)}${"</a>".repeat(9_000)}</presence>`;
    expect(deep.length).toBeLessThan(65_536);
    const err = refusal(deep);
    expect(err).toBeInstanceOf(PidfError);
    expect((err as Error).message).toMatch(/nested deeper/);
  });

  it("still reads documents nested as deep as real ones", () => {
    const nested = `${OPEN}<tuple id="t"><status><basic>open</basic></status></tuple><dm:person xmlns:dm="urn:ietf:params:xml:ns:pidf:data-model" id="p"><rpid:activities xmlns:rpid="urn:ietf:params:xml:ns:pidf:rpid"><rpid:busy/></rpid:activities></dm:person></presence>`;
    expect(readPidf(nested)).toEqual({ state: "busy" });
    expect(readPidf(GOOD)).toEqual({ state: "available" });
  });

  it("refuses 16,000 mismatched end tags at the first, in well under 10 ms", () => {
    const xml = `${OPEN}${"</x>".repeat(16_000)}</presence>`;
    expect(refusal(xml)).toBeInstanceOf(PidfError);
    expect(bestMs(() => refusal(xml))).toBeLessThan(10);
  });

  it.each([
    ["an attribute value that never closes", `${OPEN.slice(0, -1)} x="${"a".repeat(60_000)}"`.slice(0, -1) + "></presence>"],
    ["text with no markup after it", `${GOOD}${"availability>".repeat(4_800)}`],
    ["a '!' inside a name", `${OPEN}<a!b>${"x".repeat(60_000)}</a!b></presence>`],
    ["a comment that never closes", `${OPEN}<!-- ${"x".repeat(60_000)}</presence>`],
    ["an attribute without '='", `${OPEN}<a b>text='${"x".repeat(60_000)}</a></presence>`],
  ])("refuses %s in under 10 ms (ltx rescans such input at every character)", (_what, xml) => {
    expect(refusal(xml)).toBeInstanceOf(PidfError);
    expect(bestMs(() => refusal(xml))).toBeLessThan(10);
  });
});
