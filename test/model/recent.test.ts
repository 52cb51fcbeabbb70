/**
 * The bounded cache behind address preparation: it keeps what is in use,
 * never holds more than two generations, and a cached address is the same
 * answer the parser gives, refusals included.
 */
import { describe, expect, it } from "vitest";
import { RecentlyUsed } from "../../src/model/recent.js";
import { JidMalformedError, formatJid, parseJid, preparedJid } from "../../src/model/jid.js";

describe("RecentlyUsed", () => {
  it("keeps entries in use across generations and forgets the rest", () => {
    const c = new RecentlyUsed<string, number>(2);
    c.set("a", 1);
    c.set("b", 2);
    c.set("c", 3); // "a" and "b" are now the older generation
    expect(c.get("a")).toBe(1); // moved back to the newer
    c.set("d", 4);
    c.set("e", 5); // "b" was never used again: dropped with its generation
    expect(c.get("b")).toBeUndefined();
    expect(c.get("a")).toBe(1);
    expect(c.get("e")).toBe(5);
  });

  it("holds at most two generations however many keys pass through", () => {
    const c = new RecentlyUsed<number, number>(100);
    for (let i = 0; i < 100_000; i++) c.set(i, i);
    let held = 0;
    for (let i = 0; i < 100_000; i++) if (c.get(i) !== undefined) held++;
    expect(held).toBeLessThanOrEqual(200);
  });
});

describe("prepared addresses", () => {
  it("answers the same from the cache as from a first parse, frozen so no caller can change it for another", () => {
    const input = `Zoe\u0308-${Date.now()}@Corp.Test/Phone\u00A0One`;
    const first = parseJid(input);
    const again = parseJid(input);
    expect(again).toEqual(first);
    expect(first).toEqual({ local: `zo\u00EB-${input.slice(5, input.indexOf("@"))}`, domain: "corp.test", resource: "Phone One" });
    expect(Object.isFrozen(again)).toBe(true);
    expect(preparedJid(input)).toBe(formatJid(first));
  });

  it("refuses a malformed address every time, and long addresses are parsed the same without being held", () => {
    for (let i = 0; i < 3; i++) expect(() => parseJid("a@b@c")).toThrow(JidMalformedError);
    const long = `${"x".repeat(600)}@corp.test`;
    expect(parseJid(long)).toEqual({ local: "x".repeat(600), domain: "corp.test", resource: undefined });
    expect(preparedJid(long)).toBe(long);
  });
});
