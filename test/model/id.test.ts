import { describe, expect, it } from "vitest";
import { newId } from "../../src/model/id.js";

const V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe("newId", () => {
  it("makes version 4 UUIDs in the form crypto.randomUUID gives", () => {
    for (let i = 0; i < 1000; i++) expect(newId()).toMatch(V4);
  });

  it("never repeats, across many refills of its random pool", () => {
    const seen = new Set<string>();
    for (let i = 0; i < 50_000; i++) seen.add(newId());
    expect(seen.size).toBe(50_000);
  });

  it("uses every hex digit in every random position (no byte stuck, no slot skipped)", () => {
    const digits = Array.from({ length: 36 }, () => new Set<string>());
    for (let i = 0; i < 2000; i++) [...newId()].forEach((c, at) => digits[at]!.add(c));
    const random = [...Array(36).keys()].filter((at) => ![8, 13, 14, 18, 19, 23].includes(at));
    for (const at of random) expect(digits[at]!.size).toBe(16);
    expect([...digits[19]!].sort()).toEqual(["8", "9", "a", "b"]);
  });

  it("hands out strings that stay as they were after later ids are made", () => {
    const first = newId();
    const copy = `${first}`;
    for (let i = 0; i < 10; i++) newId();
    expect(first).toBe(copy);
  });
});
